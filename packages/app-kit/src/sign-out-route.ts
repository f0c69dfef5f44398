import { clearedTokenCookie } from './cookie.ts'
import type { RevocationCutoffs } from './cutoffs.ts'
import { guardRequest } from './guard.ts'
import type { ResolvedOptions, SignOutResult, VoiceUser } from './options.ts'
import { json } from './respond.ts'
import { tokenSpecFor } from './token-spec.ts'
import { handled, type RouteHandler } from './token-route.ts'
import { revokeSubject, VoiceApiError } from './voice-api.ts'

type EndSessions = (request: Request) => Promise<SignOutResult> | SignOutResult

async function endSession(o: ResolvedOptions, request: Request): Promise<SignOutResult> {
  if (o.signOut) return o.signOut(request)
  return { user: await o.authenticate(request) }
}

async function endEverySession(o: ResolvedOptions, request: Request): Promise<SignOutResult> {
  if (!o.signOutEverywhere) throw new TypeError('app-kit: signOutEverywhereRoute needs the signOutEverywhere option')
  return o.signOutEverywhere(request)
}

async function revoke(o: ResolvedOptions, user: VoiceUser, cutoffs: RevocationCutoffs): Promise<void> {
  try {
    // The same `sub` the token route mints with (tokenFor's, else subject's); none, nothing to revoke.
    const { sub } = await tokenSpecFor(o, user)
    if (sub === undefined) return
    cutoffs.set(sub, await revokeSubject(o, sub))
    o.logger.info({ user_id: user.id }, 'voice tokens revoked')
  } catch (err) {
    // Signing out must succeed even when the voice API is down; the tokens still expire on their own.
    o.logger.warn(
      { user_id: user.id, reason: err instanceof VoiceApiError ? err.reason : 'unknown' },
      'voice token revocation failed',
    )
  }
}

/**
 * The sign-out route: ends the app's session (`signOut`), optionally revokes the user's tokens, and
 * clears the token cookie with the attributes that set it. Idempotent: signing out twice is fine.
 */
export function createSignOutRouteFrom(o: ResolvedOptions, cutoffs: RevocationCutoffs): RouteHandler {
  return signOutRoute(o, cutoffs, 'sign-out', (request) => endSession(o, request), o.revokeOnSignOut)
}

/**
 * Sign out everywhere: `signOutEverywhere` ends every session of the user, and every token minted
 * for the user so far is revoked, whatever `revokeOnSignOut` says (a session elsewhere may hold one).
 */
export function createSignOutEverywhereRouteFrom(o: ResolvedOptions, cutoffs: RevocationCutoffs): RouteHandler {
  return signOutRoute(o, cutoffs, 'sign-out-everywhere', (request) => endEverySession(o, request), true)
}

function signOutRoute(
  o: ResolvedOptions,
  cutoffs: RevocationCutoffs,
  route: string,
  end: EndSessions,
  revokeTokens: boolean,
): RouteHandler {
  return handled(o, route, async (request) => {
    guardRequest(request, o.allowedOrigins)
    const { user, setCookies = [] } = await end(request)
    if (user && revokeTokens) await revoke(o, user, cutoffs)
    if (user) o.logger.info({ user_id: user.id, everywhere: route === 'sign-out-everywhere' }, 'signed out')
    return json(200, { signed_out: true }, [...setCookies, clearedTokenCookie(o.cookie)])
  })
}
