import { clearedTokenCookie } from './cookie.ts'
import { RevocationCutoffs } from './cutoffs.ts'
import { resolveCookie, resolveOptions, type AppKitOptions, type TokenCookieOptions } from './options.ts'
import { FixedWindowLimiter } from './rate-limit.ts'
import { createSignOutEverywhereRouteFrom, createSignOutRouteFrom } from './sign-out-route.ts'
import { createTokenRouteFrom, type RouteHandler } from './token-route.ts'

export interface AppKit {
  /** `POST` → `{expires_at}` + token cookie (cookie mode) or `{token, expires_at}` (memory mode). */
  tokenRoute: RouteHandler
  /** `POST` → ends the session (`signOut` option) and clears the token cookie. */
  signOutRoute: RouteHandler
  /** `POST` → ends every session of the user (`signOutEverywhere`), revokes all their tokens, clears the cookie. */
  signOutEverywhereRoute: RouteHandler
  /** A `Set-Cookie` value that clears the token cookie, for apps with their own sign-out route. */
  clearTokenCookie(): string
}

/**
 * Everything an app backend needs to hand voice tokens to its signed-in users.
 *
 * @example
 * ```ts
 * const voice = createAppKit({
 *   voiceApiUrl: 'https://voice.example.com',
 *   apiKey: process.env.VOXGATE_API_KEY!,
 *   allowedOrigins: ['https://app.example.com'],
 *   authenticate: async (request) => sessions.userOf(request), // { id } | null
 * })
 * http.createServer(toNodeHandler(voice.tokenRoute))
 * ```
 */
export function createAppKit(options: AppKitOptions): AppKit {
  const o = resolveOptions(options)
  const cutoffs = new RevocationCutoffs()
  const mints = o.mintLimit === false ? undefined : new FixedWindowLimiter({ ...o.mintLimit, now: o.now })
  return {
    tokenRoute: createTokenRouteFrom(o, { cutoffs, mints }),
    signOutRoute: createSignOutRouteFrom(o, cutoffs),
    signOutEverywhereRoute: createSignOutEverywhereRouteFrom(o, cutoffs),
    clearTokenCookie: () => clearedTokenCookie(o.cookie),
  }
}

/** The token route alone: `createAppKit(options).tokenRoute`. */
export function createTokenRoute(options: AppKitOptions): RouteHandler {
  return createAppKit(options).tokenRoute
}

/** The sign-out route alone: `createAppKit(options).signOutRoute`. */
export function createSignOutRoute(options: AppKitOptions): RouteHandler {
  return createAppKit(options).signOutRoute
}

/**
 * A `Set-Cookie` value that clears the token cookie, for an app's own sign-out handler.
 * Pass the same cookie options the token route used.
 * @example res.setHeader('set-cookie', clearTokenCookie({ name: 'voxgate_token' }))
 */
export function clearTokenCookie(cookie: TokenCookieOptions = {}): string {
  return clearedTokenCookie(resolveCookie(cookie))
}
