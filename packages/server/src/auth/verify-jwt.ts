import { verify, type KeyObject } from 'node:crypto'

/**
 * A compact JWS/JWT check with node:crypto's Ed25519 `KeyObject`, the mirror of `signJwt` (sign.ts).
 *
 * jose's `jwtVerify` goes through WebCrypto, which costs about twice a raw `crypto.verify` for a token
 * seen for the first time. This keeps jose's semantics for the one shape of token we accept, in
 * jose's order, so a token is refused here exactly when jose refuses it and is "expired" exactly when
 * jose throws `JWTExpired` (test/auth/verify-jwt-differential.test.ts compares the two on generated
 * tokens): strict base64url and UTF-8, a JSON-object header, `crit` as RFC 7515 §4.1.11 with only
 * `b64` understood (and an unencoded payload refused), the algorithm pinned to EdDSA, the key found by
 * `kid` in our own ring only, the signature, then the claims: `typ`, required claims, `iss`, `aud`,
 * `iat` / `nbf` / `exp` as numbers against `now` with the clock tolerance.
 */

export interface JwtCheck {
  issuer: string
  audience: string
  clockToleranceSeconds: number
  /** Checked as jose does: whole seconds since the epoch (the caller floors). */
  nowSeconds: number
  requiredClaims: readonly string[]
  /** The verification key for a header's `kid`, from our ring; undefined refuses the token. */
  keyFor: (kid: unknown) => KeyObject | undefined | Promise<KeyObject | undefined>
}

export type JwtResult = { ok: true; payload: Record<string, unknown> } | { ok: false; reason: 'invalid' | 'expired' }

const INVALID: JwtResult = { ok: false, reason: 'invalid' }
const EXPIRED: JwtResult = { ok: false, reason: 'expired' }
const BASE64URL = /^[A-Za-z0-9_-]*$/
const utf8 = new TextDecoder('utf-8', { fatal: true })

export async function verifyJwt(jwt: string, check: JwtCheck): Promise<JwtResult> {
  const parts = jwt.split('.')
  if (parts.length !== 3) return INVALID
  const [encodedHeader, encodedPayload, encodedSignature] = parts as [string, string, string]
  const header = jsonObject(encodedHeader)
  if (!header || !headerAccepted(header)) return INVALID
  if (!BASE64URL.test(encodedPayload)) return INVALID
  const key = await check.keyFor(header.kid)
  if (!key) return INVALID
  const signature = base64url(encodedSignature)
  if (!signature) return INVALID
  let verified: boolean
  try {
    verified = verify(null, Buffer.from(`${encodedHeader}.${encodedPayload}`), key, signature)
  } catch {
    return INVALID
  }
  if (!verified) return INVALID
  const payload = jsonObject(encodedPayload)
  if (!payload) return INVALID
  return claimsResult(header, payload, check)
}

/** `crit` (only `b64`, present, and true: a JWT never has an unencoded payload) and the pinned `alg`. */
function headerAccepted(header: Record<string, unknown>): boolean {
  if (header.crit !== undefined) {
    const crit = header.crit
    if (!Array.isArray(crit) || crit.length === 0) return false
    if (crit.some((name) => typeof name !== 'string' || name !== 'b64' || header[name] === undefined)) return false
    if (typeof header.b64 !== 'boolean' || header.b64 === false) return false
  }
  return header.alg === 'EdDSA'
}

function claimsResult(header: Record<string, unknown>, claims: Record<string, unknown>, check: JwtCheck): JwtResult {
  if (typeof header.typ !== 'string' || normalizeTyp(header.typ) !== 'application/jwt') return INVALID
  for (const name of [...check.requiredClaims, 'aud', 'iss']) if (!Object.hasOwn(claims, name)) return INVALID
  if (claims.iss !== check.issuer) return INVALID
  if (!audienceMatches(claims.aud, check.audience)) return INVALID
  const now = check.nowSeconds
  const tolerance = check.clockToleranceSeconds
  for (const name of ['iat', 'nbf', 'exp']) {
    if (claims[name] !== undefined && typeof claims[name] !== 'number') return INVALID
  }
  if (typeof claims.nbf === 'number' && claims.nbf > now + tolerance) return INVALID
  if (typeof claims.exp === 'number' && claims.exp <= now - tolerance) return EXPIRED
  return { ok: true, payload: claims }
}

const normalizeTyp = (typ: string): string =>
  typ.includes('/') ? typ.toLowerCase() : `application/${typ.toLowerCase()}`

function audienceMatches(aud: unknown, audience: string): boolean {
  if (typeof aud === 'string') return aud === audience
  return Array.isArray(aud) && aud.includes(audience)
}

/**
 * Strict base64url: no padding, whitespace or other alphabet, no impossible length. jose decodes with
 * the forgiving `atob` on Node 20, so it also takes a signature segment with `=` padding or spaces in
 * it; we refuse those (no token we mint has them), the one deliberate difference from jose.
 */
function base64url(text: string): Buffer | undefined {
  if (!BASE64URL.test(text) || text.length % 4 === 1) return undefined
  return Buffer.from(text, 'base64url')
}

function jsonObject(encoded: string): Record<string, unknown> | undefined {
  const bytes = base64url(encoded)
  if (!bytes) return undefined
  try {
    const value: unknown = JSON.parse(utf8.decode(bytes))
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined
  } catch {
    return undefined
  }
}
