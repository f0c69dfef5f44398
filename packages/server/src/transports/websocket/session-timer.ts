import { VoxgateError } from '@voxgate/protocol'
import type { Principal } from '../../auth/principal.ts'
import type { ServerContext } from '../../context.ts'

/**
 * A token-authenticated socket lives until its token's expiry plus the session grace; then `expire`
 * is called with token_expired (an in-band refresh re-arms it). API-key sockets have no deadline.
 * Shared by local sockets and gateway bridges. Returns the timer, or undefined when there is none.
 */
export function armSessionTimer(ctx: ServerContext, principal: Principal, expire: (err: VoxgateError) => void): NodeJS.Timeout | undefined {
  if (principal.kind !== 'token') return undefined
  const deadline = principal.expiresAtSeconds * 1000 + ctx.config.wsSessionGraceMs
  const timer = setTimeout(() => {
    expire(new VoxgateError('token_expired', 'The access token expired; send a refresh_token message to extend the socket.'))
  }, Math.max(0, deadline - ctx.clock.now()))
  timer.unref()
  return timer
}
