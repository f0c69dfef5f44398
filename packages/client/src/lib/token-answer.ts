import { CREDENTIAL_MAX_CHARS, readJwt } from '@voxgate/protocol'
import { TokenBackendError } from '../errors.ts'
import { assertNotApiKey } from '../safety.ts'

/**
 * What the app backend (or the `fetchToken` callback) answers. Times are unix seconds on the
 * server's clock.
 */
export interface TokenAnswer {
  /** The access token (memory mode). Absent in cookie mode: the token rides in an HttpOnly cookie. */
  token?: string
  /** When the token expires, unix seconds (server clock). */
  expires_at: number
  /** When the token was issued, unix seconds (server clock). Lets the client know the lifetime exactly. */
  issued_at?: number
}

const bad = (what: string) =>
  new TokenBackendError('ERR_TOKEN_RESPONSE', `The token backend's answer is malformed: ${what}.`, false)
const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0

/** Validates an answer. Messages name the field, never its value. */
export function parseAnswer(body: unknown, mode: 'memory' | 'cookie'): TokenAnswer {
  if (typeof body !== 'object' || body === null) throw bad('not a JSON object')
  const { token, expires_at, issued_at } = body as Record<string, unknown>
  if (!isTime(expires_at)) throw bad('expires_at must be unix seconds')
  if (issued_at !== undefined && issued_at !== null && !isTime(issued_at)) throw bad('issued_at must be unix seconds')
  const issued = isTime(issued_at) ? { issued_at } : {}
  if (mode === 'cookie') return { expires_at, ...issued } // a token in the body is dropped, never held
  if (typeof token !== 'string' || token.length === 0 || token.length > CREDENTIAL_MAX_CHARS || /\s/.test(token))
    throw bad('token missing')
  assertNotApiKey(token)
  return { token, expires_at, ...issued }
}

/** The `iat` of a JWT whose `exp` matches `expiresAt`, or undefined (tokens are opaque otherwise). */
function jwtIssuedAt(token: string | undefined, expiresAt: number): number | undefined {
  const claims = readJwt(token)
  return claims?.exp === expiresAt ? claims.iat : undefined
}

/**
 * The token's lifetime in milliseconds, measured without trusting the local wall clock: the
 * difference of two SERVER times. The reference "issued" time is, in order: the answer's
 * `issued_at`; the JWT's own `iat` (same clock as its `exp`); the backend's `Date` header; and only
 * as a last resort the local wall clock. Whole-second times lose up to a second to truncation, so
 * one second is taken off (a 2 s token may really have 1.01 s left).
 */
export function lifetimeMs(answer: TokenAnswer, dateHeaderSeconds: number | undefined, wallNowMs: number): number {
  const reference =
    answer.issued_at ?? jwtIssuedAt(answer.token, answer.expires_at) ?? dateHeaderSeconds ?? wallNowMs / 1000
  const truncation = Number.isInteger(reference) && Number.isInteger(answer.expires_at) ? 1 : 0
  const seconds = answer.expires_at - reference - truncation
  return Math.max(500, Math.min(seconds, 86_400) * 1000)
}
