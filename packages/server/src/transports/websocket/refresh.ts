import { VoxgateError } from '@voxgate/protocol'
import type { WsRefreshToken } from '@voxgate/protocol/schemas'
import { authorize } from '../../auth/authorize.ts'
import type { Principal, TokenPrincipal } from '../../auth/principal.ts'
import type { AuthParts } from '../../context.ts'
import { checkOrigin } from '../../http/origin.ts'

/** Who a socket belongs to, fixed for its life: a refresh may extend it, never hand it over. */
export interface SocketIdentity {
  keyId: string
  sub: string | undefined
}

export const identityOf = (p: Principal): SocketIdentity => ({
  keyId: p.keyId,
  sub: p.kind === 'token' ? p.sub : undefined,
})

/**
 * voxgate's in-band `refresh_token`, for local and relayed TTS sockets alike: the fresh token is
 * checked exactly like a new connection's (authentication, the `tts` grant, the origin), and is
 * accepted only for the socket's own identity (API key and `sub`).
 */
export async function verifyRefresh(
  ctx: AuthParts,
  msg: WsRefreshToken,
  origin: string | undefined,
  identity: SocketIdentity,
): Promise<TokenPrincipal> {
  const principal = await ctx.authenticator.authenticate(msg.access_token)
  if (principal.kind !== 'token')
    throw new VoxgateError('invalid_request', 'refresh_token takes an access token, not an API key.')
  // A token is checked by its grant alone; the access decision (`speech`) is what a key would need.
  authorize(principal, { grant: 'tts' }, 'speech')
  checkOrigin(origin, { value: msg.access_token, carrier: 'query' }, principal, ctx.config.allowedOrigins, true)
  const fresh = identityOf(principal)
  if (fresh.keyId !== identity.keyId || fresh.sub !== identity.sub) {
    throw new VoxgateError(
      'identity_mismatch',
      'The fresh token belongs to another API key or end-user; open a new socket for it.',
    )
  }
  return principal
}
