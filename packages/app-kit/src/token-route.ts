import { clearedTokenCookie, tokenCookie } from './cookie.ts'
import type { RevocationCutoffs } from './cutoffs.ts'
import { AppKitError, RateLimitedError } from './errors.ts'
import { guardRequest } from './guard.ts'
import { jwtTimes } from './jwt.ts'
import type { ResolvedOptions, VoiceUser } from './options.ts'
import { errorResponse, json } from './respond.ts'
import type { FixedWindowLimiter } from './rate-limit.ts'
import { tokenSpecFor } from './token-spec.ts'
import { mintToken, VoiceApiError } from './voice-api.ts'

/** A route in web-standard form; adapters mount it on node:http, Express or Fastify. */
export type RouteHandler = (request: Request) => Promise<Response>

/** What the browser receives (Unix seconds on the voice API's clock); `token` in memory mode only. */
export interface TokenRouteBody {
  token?: string
  expires_at: number
  issued_at: number
}

/** Turns any failure into its coded response; an unexpected throw is a 500 and a log line. */
export function handled(o: ResolvedOptions, route: string, run: (request: Request) => Promise<Response>): RouteHandler {
  return async (request) => {
    try {
      return await run(request)
    } catch (err) {
      if (!(err instanceof AppKitError)) {
        o.logger.warn({ route, error: err instanceof Error ? err.name : typeof err }, 'app-kit route failed')
        return errorResponse('internal_error')
      }
      const extra: Record<string, string> = err.code === 'method_not_allowed' ? { allow: 'POST' } : {}
      if (err instanceof RateLimitedError) extra['retry-after'] = String(err.retryAfterSeconds)
      return errorResponse(err.code, [], extra)
    }
  }
}

async function signedInUser(o: ResolvedOptions, request: Request): Promise<VoiceUser | null> {
  const user = await o.authenticate(request)
  const ok =
    user === null ||
    (typeof user === 'object' &&
      typeof user.id === 'string' &&
      user.id.length > 0 &&
      (user.session === undefined || (typeof user.session === 'string' && user.session.length > 0)))
  if (!ok) throw new TypeError('app-kit: authenticate must return { id: string, session?: string } or null')
  return user
}

/** What the token route shares with the rest of the kit. */
export interface TokenRouteState {
  cutoffs: RevocationCutoffs
  /** Mints per session (`mintLimit`); undefined when off. */
  mints: FixedWindowLimiter | undefined
}

function throttle(state: TokenRouteState, user: VoiceUser): void {
  const wait = state.mints?.take(user.session !== undefined ? `session:${user.session}` : `user:${user.id}`) ?? 0
  if (wait > 0) throw new RateLimitedError(wait)
}

/** The token route: guard → who is signed in → mint with the API key → cookie or JSON. */
export function createTokenRouteFrom(o: ResolvedOptions, state: TokenRouteState): RouteHandler {
  return handled(o, 'token', async (request) => {
    guardRequest(request, o.allowedOrigins)
    const user = await signedInUser(o, request)
    // A signed-out browser must not keep a token either, so cookie mode clears any leftover.
    if (!user) return errorResponse('signed_out', o.mode === 'cookie' ? [clearedTokenCookie(o.cookie)] : [])
    try {
      throttle(state, user)
    } catch (err) {
      o.logger.warn({ user_id: user.id }, 'voice token mint throttled')
      throw err
    }
    const spec = await tokenSpecFor(o, user)
    if (spec.sub !== undefined) await state.cutoffs.waitPast(spec.sub, o.now)
    let token: string
    try {
      token = await mintToken(o, spec)
    } catch (err) {
      o.logger.warn(
        { user_id: user.id, reason: err instanceof VoiceApiError ? err.reason : 'unknown' },
        'voice token mint failed',
      )
      throw err instanceof AppKitError ? err : new AppKitError('mint_failed')
    }
    const nowMs = o.now()
    const times = jwtTimes(token)
    const expiresAt = times?.exp ?? Math.floor(nowMs / 1000) + o.expiresInSeconds
    const issuedAt = times?.iat ?? Math.floor(nowMs / 1000)
    o.logger.info({ user_id: user.id, expires_at: expiresAt, mode: o.mode }, 'voice token minted')
    if (o.mode === 'memory')
      return json(200, { token, expires_at: expiresAt, issued_at: issuedAt } satisfies TokenRouteBody)
    // The cookie dies with the token: never longer than asked, never past `exp`.
    const maxAge = Math.min(o.expiresInSeconds, Math.ceil((expiresAt * 1000 - nowMs) / 1000))
    return json(200, { expires_at: expiresAt, issued_at: issuedAt } satisfies TokenRouteBody, [
      tokenCookie(o.cookie, token, maxAge),
    ])
  })
}
