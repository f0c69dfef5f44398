import { VoxgateError } from '@voxgate/protocol'
import type { Credential } from '../auth/credentials.ts'
import type { Principal } from '../auth/principal.ts'

/**
 * Origin rules. A cookie rides along with any cross-site request, so a cookie-authenticated request
 * (and any browser WebSocket handshake when an allowlist is set) must come from an allowed origin;
 * a token whose `limits.origins` is set may be used only from those origins. `origin` is the header as
 * sent: `null` is an opaque origin and matches no list, so it is refused wherever a list applies.
 */
export function checkOrigin(
  origin: string | undefined,
  credential: Credential,
  principal: Principal,
  allowedOrigins: readonly string[],
  websocket: boolean,
): void {
  if (credential.carrier === 'cookie' && (origin === undefined || !allowedOrigins.includes(origin))) {
    throw new VoxgateError('origin_not_allowed', 'This origin may not use the token cookie.')
  }
  if (websocket && origin !== undefined && allowedOrigins.length > 0 && !allowedOrigins.includes(origin)) {
    throw new VoxgateError('origin_not_allowed', 'WebSocket connections from this origin are not allowed.')
  }
  const tokenOrigins = principal.kind === 'token' ? principal.limits?.origins : undefined
  if (tokenOrigins && (origin === undefined || !tokenOrigins.includes(origin))) {
    throw new VoxgateError('origin_not_allowed', 'This access token may not be used from this origin.')
  }
}
