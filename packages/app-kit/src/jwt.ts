export interface JwtTimes {
  /** `exp`, Unix seconds (RFC 7519 §4.1.4). */
  exp: number
  /** `iat`, Unix seconds (RFC 7519 §4.1.6), when present. */
  iat: number | undefined
}

const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0

/**
 * The `exp` and `iat` claims of a JWT, read without verifying it: the app only needs to know when
 * to refresh, and the voice API is the one that verifies. Undefined when the token is not a
 * decodable JWT with an `exp` (a Cartesia-compatible API may issue opaque tokens).
 * @example jwtTimes(token)?.exp // 1767225600
 */
export function jwtTimes(token: string): JwtTimes | undefined {
  const parts = token.split('.')
  const payload = parts[1]
  if (parts.length !== 3 || !payload) return undefined
  try {
    const b64 = payload.replace(/-/g, '+').replace(/_/g, '/')
    const bytes = Uint8Array.from(atob(b64.padEnd(Math.ceil(b64.length / 4) * 4, '=')), (c) => c.charCodeAt(0))
    const claims: unknown = JSON.parse(new TextDecoder().decode(bytes))
    if (typeof claims !== 'object' || claims === null) return undefined
    const { exp, iat } = claims as Record<string, unknown>
    return isTime(exp) ? { exp, iat: isTime(iat) ? iat : undefined } : undefined
  } catch {
    return undefined
  }
}
