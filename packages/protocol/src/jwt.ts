/**
 * The claims of an access token that clients may read without verifying it: when it was issued and
 * expires (to schedule refreshes), and whose it is (to keep one socket per user). Only the server
 * verifies tokens; these readings decide nothing about access.
 */
export interface JwtReading {
  /** `exp`, unix seconds. */
  exp: number
  /** `iat`, unix seconds, when present. */
  iat: number | undefined
  /** `sub`, when present. */
  sub: string | undefined
  /** voxgate's `key_id` claim (the API key that minted the token), when present. */
  keyId: string | undefined
}

const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined)

/**
 * Reads a JWT's payload without verifying it. Undefined when the token is not a decodable JWT with an
 * `exp` (a Cartesia-compatible API may issue opaque tokens).
 * @example readJwt(token)?.exp // 1767225600
 */
export function readJwt(token: string | undefined): JwtReading | undefined {
  const parts = token?.split('.') ?? []
  const payload = parts[1]
  if (parts.length !== 3 || !payload) return undefined
  try {
    const b64 = payload.replace(/-/g, '+').replace(/_/g, '/')
    const bytes = Uint8Array.from(atob(b64.padEnd(Math.ceil(b64.length / 4) * 4, '=')), (c) => c.charCodeAt(0))
    const claims: unknown = JSON.parse(new TextDecoder().decode(bytes))
    if (typeof claims !== 'object' || claims === null) return undefined
    const { exp, iat, sub, key_id } = claims as Record<string, unknown>
    return isTime(exp) ? { exp, iat: isTime(iat) ? iat : undefined, sub: str(sub), keyId: str(key_id) } : undefined
  } catch {
    return undefined
  }
}
