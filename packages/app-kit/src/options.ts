import { API_VERSION, isOrigin, TOKEN_TTL_MAX_SECONDS, TOKEN_TTL_MIN_SECONDS } from '@voxgate/protocol'
import { checkRateLimit, type RateLimit } from './rate-limit.ts'
import { checkGrants, type TokenSpec } from './token-spec.ts'
import type { VoiceUser } from './user.ts'

export type { VoiceUser } from './user.ts'

/** A pino-compatible logger. The app kit logs user ids and expiry times, never a token or key. */
export interface AppKitLogger {
  info(fields: Record<string, unknown>, message: string): void
  warn(fields: Record<string, unknown>, message: string): void
}

/** Where the token cookie lives (cookie mode). Every attribute is also used to clear it. */
export interface TokenCookieOptions {
  /** Must equal voxgate's `--token-cookie`. @default 'voxgate_token' */
  name?: string
  /** @default '/' */
  path?: string
  /** Set it to share the cookie with a sibling host (`example.com` for app. and voice.). @default host-only */
  domain?: string
}

/** What `signOut` reports: who was signed in, and extra cookies to set (clearing the session cookie). */
export interface SignOutResult {
  user: VoiceUser | null
  setCookies?: readonly string[]
}

export interface AppKitOptions {
  /** Base URL of voxgate or of any Cartesia-compatible API, e.g. `https://voice.example.com`. HTTPS only. */
  voiceApiUrl: string
  /** The app's server-side API key. Never leaves the backend, never logged, never in an error. */
  apiKey: string
  /** The app's own origins (`https://app.example.com`); any other `Origin` gets 403 (CSRF). */
  allowedOrigins: readonly string[]
  /** The app's session check: the signed-in user, or null. */
  authenticate: (request: Request) => Promise<VoiceUser | null> | VoiceUser | null
  /**
   * `cookie`: the token goes into an HttpOnly cookie that voxgate reads (same site only); the body
   * is `{expires_at}`. `memory`: the body is `{token, expires_at}` for the SDK to keep in memory.
   * @default 'cookie'
   */
  mode?: 'cookie' | 'memory'
  /** What the token may do; keep it minimal. @default { tts: true } */
  grants?: Readonly<Record<string, boolean>>
  /**
   * Decides the token for the signed-in user, per mint: `sub`, `grants` and (voxgate only) `limits`
   * (`characters`, `concurrent_streams`, `voices`, `origins`). Fields left out keep `subject` and
   * `grants`. Also called at sign-out, for the `sub` to revoke. A malformed answer is a 500.
   * @example tokenFor: (user) => ({ limits: { characters: 5000, concurrent_streams: 2 } })
   * @default undefined
   */
  tokenFor?: (user: VoiceUser) => Promise<TokenSpec> | TokenSpec
  /**
   * Mints allowed per session (`VoiceUser.session`, else per user) per window; one more is 429
   * `rate_limited` with `Retry-After`. Every attempt counts, failed mints included. `false` turns it off.
   * @default { max: 30, windowSeconds: 60 }
   */
  mintLimit?: RateLimit | false
  /** Token lifetime, 1..3600 s; the cookie's Max-Age follows it. @default 60 */
  expiresInSeconds?: number
  cookie?: TokenCookieOptions
  /**
   * The token's `sub`. voxgate records it (logs, per-user revocation). Cartesia documents no `sub`
   * field for `POST /access-token`, so pass `false` when minting against Cartesia itself.
   * @default (user) => user.id
   */
  subject?: ((user: VoiceUser) => string) | false
  /**
   * Ends the app's session for `signOutRoute`. Without it, `signOutRoute` only clears the token cookie.
   * @default undefined
   */
  signOut?: (request: Request) => Promise<SignOutResult> | SignOutResult
  /**
   * Ends every session of the signed-in user, for `signOutEverywhereRoute`, which then also revokes
   * all the user's tokens (voxgate only; needs a `sub`). @default undefined (the route answers 500)
   */
  signOutEverywhere?: (request: Request) => Promise<SignOutResult> | SignOutResult
  /**
   * voxgate only: on sign-out, revoke every token minted for the user so far
   * (`POST /access-token/revoke {sub, issued_before}`), so a token held in memory dies at once.
   * @default false
   */
  revokeOnSignOut?: boolean
  /** `Cartesia-Version` sent to the voice API. @default API_VERSION from @voxgate/protocol */
  cartesiaVersion?: string
  /** How long to wait for the voice API. @default 10000 */
  voiceApiTimeoutMs?: number
  /**
   * Where the kit logs (pino, or anything with `info` and `warn`). A mint that fails is logged as
   * `voice token mint failed` with `reason`: `status 401 invalid_credentials` (the voice API's status
   * and `error_code`), `network ECONNREFUSED`, `network SELF_SIGNED_CERT_IN_CHAIN` (its CA is not
   * trusted: NODE_EXTRA_CA_CERTS), `timeout` or `malformed answer`; the client only sees 502 `mint_failed`.
   * @example logger: pino()
   * @default no logging
   */
  logger?: AppKitLogger
  /** For tests and custom agents. @default globalThis.fetch */
  fetch?: typeof fetch
  /** Milliseconds since the epoch. @default Date.now */
  now?: () => number
}

export interface ResolvedOptions {
  readonly voiceApiUrl: string
  readonly apiKey: string
  readonly allowedOrigins: readonly string[]
  readonly authenticate: AppKitOptions['authenticate']
  readonly mode: 'cookie' | 'memory'
  readonly grants: Readonly<Record<string, boolean>>
  readonly tokenFor: AppKitOptions['tokenFor']
  readonly mintLimit: Readonly<RateLimit> | false
  readonly expiresInSeconds: number
  readonly cookie: Readonly<Required<Omit<TokenCookieOptions, 'domain'>> & { domain: string | undefined }>
  readonly subject: ((user: VoiceUser) => string) | false
  readonly signOut: AppKitOptions['signOut']
  readonly signOutEverywhere: AppKitOptions['signOutEverywhere']
  readonly revokeOnSignOut: boolean
  readonly cartesiaVersion: string
  readonly voiceApiTimeoutMs: number
  readonly logger: AppKitLogger
  readonly fetch: typeof fetch
  readonly now: () => number
}

const COOKIE_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/
const COOKIE_ATTR = /^[\x21-\x3A\x3C-\x7E]+$/
const silent: AppKitLogger = { info() {}, warn() {} }

function fail(what: string): never {
  throw new TypeError(`app-kit: invalid option ${what}`)
}

function httpsBase(url: string): string {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return fail('voiceApiUrl: not a URL')
  }
  if (parsed.protocol !== 'https:') fail('voiceApiUrl: must be https (tokens and keys travel over TLS only)')
  return parsed.href.replace(/\/+$/, '')
}

export function resolveCookie(c: TokenCookieOptions): ResolvedOptions['cookie'] {
  const cookie = { name: c.name ?? 'voxgate_token', path: c.path ?? '/', domain: c.domain }
  if (!COOKIE_NAME.test(cookie.name)) fail('cookie.name')
  if (!cookie.path.startsWith('/') || !COOKIE_ATTR.test(cookie.path)) fail('cookie.path')
  if (cookie.domain !== undefined && !COOKIE_ATTR.test(cookie.domain)) fail('cookie.domain')
  return Object.freeze(cookie)
}

/** Validates once, fills defaults, freezes: nonsense throws when the app starts, not per request. */
export function resolveOptions(o: AppKitOptions): ResolvedOptions {
  if (typeof o.apiKey !== 'string' || o.apiKey.length === 0) fail('apiKey: required')
  if (!Array.isArray(o.allowedOrigins) || o.allowedOrigins.length === 0) fail("allowedOrigins: list the app's origins")
  for (const origin of o.allowedOrigins)
    if (typeof origin !== 'string' || !isOrigin(origin)) fail(`allowedOrigins: ${String(origin)} is not an origin`)
  if (typeof o.authenticate !== 'function') fail('authenticate: required')
  const mode = o.mode ?? 'cookie'
  if (mode !== 'cookie' && mode !== 'memory') fail('mode: cookie or memory')
  const expiresInSeconds = o.expiresInSeconds ?? 60
  if (
    !Number.isInteger(expiresInSeconds) ||
    expiresInSeconds < TOKEN_TTL_MIN_SECONDS ||
    expiresInSeconds > TOKEN_TTL_MAX_SECONDS
  )
    fail(`expiresInSeconds: an integer in ${TOKEN_TTL_MIN_SECONDS}..${TOKEN_TTL_MAX_SECONDS}`)
  const cookie = resolveCookie(o.cookie ?? {})
  if (o.tokenFor !== undefined && typeof o.tokenFor !== 'function') fail('tokenFor: a function')
  if (o.signOutEverywhere !== undefined && typeof o.signOutEverywhere !== 'function')
    fail('signOutEverywhere: a function')
  const mintLimit =
    o.mintLimit === false ? false : checkRateLimit(o.mintLimit ?? { max: 30, windowSeconds: 60 }, 'mintLimit')
  const voiceApiTimeoutMs = o.voiceApiTimeoutMs ?? 10_000
  if (!Number.isInteger(voiceApiTimeoutMs) || voiceApiTimeoutMs < 1) fail('voiceApiTimeoutMs')
  return Object.freeze({
    voiceApiUrl: httpsBase(o.voiceApiUrl),
    apiKey: o.apiKey,
    allowedOrigins: Object.freeze([...o.allowedOrigins]),
    authenticate: o.authenticate,
    mode,
    grants: checkGrants(o.grants ?? { tts: true }),
    tokenFor: o.tokenFor,
    mintLimit,
    expiresInSeconds,
    cookie,
    subject: o.subject ?? ((user: VoiceUser) => user.id),
    signOut: o.signOut,
    signOutEverywhere: o.signOutEverywhere,
    revokeOnSignOut: o.revokeOnSignOut ?? false,
    cartesiaVersion: o.cartesiaVersion ?? API_VERSION,
    voiceApiTimeoutMs,
    logger: o.logger ?? silent,
    fetch: o.fetch ?? globalThis.fetch.bind(globalThis),
    now: o.now ?? Date.now,
  })
}
