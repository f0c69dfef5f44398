import { VoxgateError } from '@voxgate/protocol'
import type { Principal } from '../../auth/principal.ts'
import type { CoreParts } from '../../context.ts'

/** What a TTS socket's client is told: it can refresh in band. */
const REFRESH_HINT = 'The access token expired; send a refresh_token message to extend the socket.'
/** What an STT socket's client is told: STT sockets have no in-band refresh. */
export const REOPEN_HINT = 'The access token expired; open a new socket with a fresh token.'

/**
 * A token-authenticated socket lives until its token's expiry plus the session grace; then `expire`
 * is called with token_expired (on a TTS socket an in-band refresh re-arms it; STT sockets pass their
 * own `message`). API-key sockets have no deadline. Shared by every local socket and gateway relay.
 * Returns the timer, or undefined when there is none.
 */
export function armSessionTimer(
  ctx: CoreParts,
  principal: Principal,
  expire: (err: VoxgateError) => void,
  message = REFRESH_HINT,
): NodeJS.Timeout | undefined {
  if (principal.kind !== 'token') return undefined
  const deadline = principal.expiresAtSeconds * 1000 + ctx.config.wsSessionGraceMs
  const timer = setTimeout(
    () => {
      expire(new VoxgateError('token_expired', message))
    },
    Math.max(0, deadline - ctx.clock.now()),
  )
  timer.unref()
  return timer
}
