import { clearedTokenCookie, tokenCookie } from './cookie.ts'
import type { RevocationCutoffs } from './cutoffs.ts'
import { AppKitError } from './errors.ts'
import { guardRequest } from './guard.ts'
import { jwtTimes } from './jwt.ts'
import type { ResolvedOptions, VoiceUser } from './options.ts'
import { errorResponse, json } from './respond.ts'
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
      return errorResponse(err.code, [], extra)
    }
  }
}

async function signedInUser(o: ResolvedOptions, request: Request): Promise<VoiceUser | null> {
  const user = await o.authenticate(request)
  if (user !== null && (typeof user !== 'object' || typeof user.id !== 'string' || user.id.length === 0)) {
    throw new TypeError('app-kit: authenticate must return { id: string } or null')
  }
  return user
}

/** The token route: guard → who is signed in → mint with the API key → cookie or JSON. */
export function createTokenRouteFrom(o: ResolvedOptions, cutoffs: RevocationCutoffs): RouteHandler {
  return handled(o, 'token', async (request) => {
    guardRequest(request, o.allowedOrigins)
    const user = await signedInUser(o, request)
    // A signed-out browser must not keep a token either, so cookie mode clears any leftover.
    if (!user) return errorResponse('signed_out', o.mode === 'cookie' ? [clearedTokenCookie(o.cookie)] : [])
    if (o.subject !== false) await cutoffs.waitPast(o.subject(user), o.now)
    let token: string
    try {
      token = await mintToken(o, user)
    } catch (err) {
      o.logger.warn({ user_id: user.id, reason: err instanceof VoiceApiError ? err.reason : 'unknown' }, 'voice token mint failed')
      throw err instanceof AppKitError ? err : new AppKitError('mint_failed')
    }
    const nowMs = o.now()
    const times = jwtTimes(token)
    const expiresAt = times?.exp ?? Math.floor(nowMs / 1000) + o.expiresInSeconds
    const issuedAt = times?.iat ?? Math.floor(nowMs / 1000)
    o.logger.info({ user_id: user.id, expires_at: expiresAt, mode: o.mode }, 'voice token minted')
    if (o.mode === 'memory') return json(200, { token, expires_at: expiresAt, issued_at: issuedAt } satisfies TokenRouteBody)
    // The cookie dies with the token: never longer than asked, never past `exp`.
    const maxAge = Math.min(o.expiresInSeconds, Math.ceil((expiresAt * 1000 - nowMs) / 1000))
    return json(200, { expires_at: expiresAt, issued_at: issuedAt } satisfies TokenRouteBody, [tokenCookie(o.cookie, token, maxAge)])
  })
}
