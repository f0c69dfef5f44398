import type { RateLimit } from '@voxgate/app-kit'
import { argon2idHasher, type PasswordHasher } from './passwords.ts'

/**
 * Everything the example app needs, in one frozen object. `dev.ts` (and the tests) build it; no
 * other module reads the environment.
 */
export interface AppConfig {
  /** Address to listen on. @default '127.0.0.1' */
  host: string
  /** Port; the app's origin is `https://localhost:<port>`, so it must be known before listening. */
  port: number
  /** The app's own origin, the one the token route and voxgate's `--allowed-origin` accept. */
  origin: string
  /** TLS certificate chain and key (PEM). */
  tls: { cert: string | Buffer; key: string | Buffer }
  /** Where the backend reaches the voice API (mint, voices). */
  voiceApiUrl: string
  /** Where the browser reaches the voice API; must share the app's site in cookie mode. */
  voicePublicUrl: string
  /** The app's API key for the voice API (server side only). */
  apiKey: string
  /** `cookie` (same site, HttpOnly cookie) or `memory` (JSON, held by the SDK). @default 'cookie' */
  tokenMode: 'cookie' | 'memory'
  /** Must match voxgate's `--token-cookie`. @default 'voxgate_token' */
  tokenCookieName: string
  /** Token lifetime in seconds. @default 60 */
  tokenLifetimeSeconds: number
  /** SQLite file for users and sessions, or ':memory:'. */
  databaseFile: string
  /** Signed-in sessions last this long. @default 7 days */
  sessionLifetimeSeconds: number
  /** How often expired sessions are deleted (they are also refused and deleted when read). @default 10 minutes */
  sessionPurgeIntervalMs: number
  /**
   * Failed sign-ins allowed per account (email) and per client address (IPv6 by /64) per window; past
   * either, sign-in answers 429 `too_many_attempts` with `Retry-After`. A successful sign-in does not count.
   * @default { perAccount: { max: 5, windowSeconds: 900 }, perAddress: { max: 20, windowSeconds: 900 } }
   */
  signInLimits: { perAccount: RateLimit; perAddress: RateLimit }
  /**
   * Sign-ups allowed per client address (IPv6 by /64) per window, whatever the email and whether or not
   * it was taken (each costs a password hash); past it, sign-up answers 429 `too_many_attempts` with
   * `Retry-After`. @default { perAddress: { max: 10, windowSeconds: 900 } }
   */
  signUpLimits: { perAddress: RateLimit }
  /** Hashes and checks passwords: one call per sign-up or sign-in. @default argon2id (OWASP's baseline) */
  passwordHasher: PasswordHasher
  /** Voice tokens one session may mint per window (the app kit's `mintLimit`). @default { max: 30, windowSeconds: 60 } */
  tokenMintLimit: RateLimit
  /** Milliseconds since the epoch: sessions, throttles and the app kit all read this clock. @default Date.now */
  now: () => number
  /** One JSON log line at a time (stdout by default). */
  log: (line: string) => void
}

type Defaulted =
  | 'origin'
  | 'host'
  | 'tokenMode'
  | 'tokenCookieName'
  | 'tokenLifetimeSeconds'
  | 'sessionLifetimeSeconds'
  | 'sessionPurgeIntervalMs'
  | 'signInLimits'
  | 'signUpLimits'
  | 'passwordHasher'
  | 'tokenMintLimit'
  | 'now'
  | 'log'
export type AppConfigInput = Omit<AppConfig, Defaulted> & Partial<Pick<AppConfig, Defaulted>>

export function appConfig(input: AppConfigInput): Readonly<AppConfig> {
  if (!Number.isInteger(input.port) || input.port < 1 || input.port > 65535)
    throw new TypeError('web-app: port must be 1..65535 (the origin must be known before listening)')
  const tokenMode = input.tokenMode ?? 'cookie'
  if (tokenMode !== 'cookie' && tokenMode !== 'memory') throw new TypeError('web-app: tokenMode is cookie or memory')
  const purgeMs = input.sessionPurgeIntervalMs
  if (purgeMs !== undefined && (!Number.isInteger(purgeMs) || purgeMs < 1))
    throw new TypeError('web-app: sessionPurgeIntervalMs must be a positive integer')
  const hasher = input.passwordHasher
  if (hasher !== undefined && (typeof hasher.hash !== 'function' || typeof hasher.verify !== 'function'))
    throw new TypeError('web-app: passwordHasher needs hash(password) and verify(storedHash, password)')
  return Object.freeze({
    host: '127.0.0.1',
    origin: `https://localhost:${input.port}`,
    tokenCookieName: 'voxgate_token',
    tokenLifetimeSeconds: 60,
    sessionLifetimeSeconds: 7 * 86_400,
    sessionPurgeIntervalMs: 10 * 60_000,
    signInLimits: { perAccount: { max: 5, windowSeconds: 15 * 60 }, perAddress: { max: 20, windowSeconds: 15 * 60 } },
    signUpLimits: { perAddress: { max: 10, windowSeconds: 15 * 60 } },
    passwordHasher: argon2idHasher,
    tokenMintLimit: { max: 30, windowSeconds: 60 },
    now: Date.now,
    log: (line: string) => process.stdout.write(`${line}\n`),
    ...input,
    tokenMode,
  })
}
