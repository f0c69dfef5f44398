import { UnsafeCredentialError } from './errors.ts'

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]'])

/** True in a browser-like runtime, where an API key must never appear. */
export const inBrowser = (): boolean => typeof (globalThis as { window?: unknown }).window !== 'undefined'

/**
 * Refuses to send a credential anywhere but HTTPS (or WSS), except to loopback during development.
 * @example
 * assertSecureUrl(new URL('https://voice.example.com')) // ok
 * assertSecureUrl(new URL('http://voice.example.com'))  // throws ERR_INSECURE_URL
 */
export function assertSecureUrl(url: URL): void {
  if (url.protocol === 'https:' || url.protocol === 'wss:') return
  if ((url.protocol === 'http:' || url.protocol === 'ws:') && LOOPBACK.has(url.hostname)) return
  throw new UnsafeCredentialError(
    'ERR_INSECURE_URL',
    `Refusing to send a credential over ${url.protocol} to ${url.host}; use https.`,
  )
}

/**
 * Refuses a value shaped like an API key (`sk_…`) in a browser: API keys belong on servers only.
 * @example
 * assertNotApiKey(token) // throws ERR_API_KEY_IN_BROWSER for 'sk_vx_…' when window exists
 */
export function assertNotApiKey(value: string): void {
  if (inBrowser() && /^sk_/i.test(value.trim())) {
    throw new UnsafeCredentialError(
      'ERR_API_KEY_IN_BROWSER',
      'An API key reached the browser; the app backend must mint an access token instead.',
    )
  }
}
