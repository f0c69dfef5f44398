import { clearedTokenCookie } from './cookie.ts'
import type { RevocationCutoffs } from './cutoffs.ts'
import { guardRequest } from './guard.ts'
import type { ResolvedOptions, SignOutResult, VoiceUser } from './options.ts'
import { json } from './respond.ts'
import { handled, type RouteHandler } from './token-route.ts'
import { revokeUserTokens, VoiceApiError } from './voice-api.ts'

async function endSession(o: ResolvedOptions, request: Request): Promise<SignOutResult> {
  if (o.signOut) return o.signOut(request)
  return { user: await o.authenticate(request) }
}

async function revoke(o: ResolvedOptions, user: VoiceUser, cutoffs: RevocationCutoffs): Promise<void> {
  try {
    const revoked = await revokeUserTokens(o, user)
    if (revoked) cutoffs.set(revoked.subject, revoked.cutoff)
    o.logger.info({ user_id: user.id }, 'voice tokens revoked')
  } catch (err) {
    // Signing out must succeed even when the voice API is down; the tokens still expire on their own.
    o.logger.warn({ user_id: user.id, reason: err instanceof VoiceApiError ? err.reason : 'unknown' }, 'voice token revocation failed')
  }
}

/**
 * The sign-out route: ends the app's session (`signOut`), optionally revokes the user's tokens, and
 * clears the token cookie with the attributes that set it. Idempotent: signing out twice is fine.
 */
export function createSignOutRouteFrom(o: ResolvedOptions, cutoffs: RevocationCutoffs): RouteHandler {
  return handled(o, 'sign-out', async (request) => {
    guardRequest(request, o.allowedOrigins)
    const { user, setCookies = [] } = await endSession(o, request)
    if (user && o.revokeOnSignOut) await revoke(o, user, cutoffs)
    if (user) o.logger.info({ user_id: user.id }, 'signed out')
    return json(200, { signed_out: true }, [...setCookies, clearedTokenCookie(o.cookie)])
  })
}
