import type { ResolvedOptions } from './options.ts'

type CookieAttrs = ResolvedOptions['cookie']

/**
 * The token cookie as the seed asks: HttpOnly (no script reads it), Secure (TLS only),
 * SameSite=Strict (no cross-site request carries it), and a lifetime matching the token's.
 */
export function tokenCookie(attrs: CookieAttrs, token: string, maxAgeSeconds: number): string {
  return [
    `${attrs.name}=${token}`,
    'HttpOnly',
    'Secure',
    'SameSite=Strict',
    `Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}`,
    `Path=${attrs.path}`,
    ...(attrs.domain !== undefined ? [`Domain=${attrs.domain}`] : []),
  ].join('; ')
}

/** Clears the token cookie: an empty value and Max-Age=0 with the same attributes that set it. */
export function clearedTokenCookie(attrs: CookieAttrs): string {
  return tokenCookie(attrs, '', 0)
}
