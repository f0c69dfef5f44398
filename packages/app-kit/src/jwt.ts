import { readJwt } from '@voxgate/protocol'

export interface JwtTimes {
  /** `exp`, Unix seconds (RFC 7519 §4.1.4). */
  exp: number
  /** `iat`, Unix seconds (RFC 7519 §4.1.6), when present. */
  iat: number | undefined
}

/**
 * The `exp` and `iat` claims of a JWT, read without verifying it (the one reading in
 * `@voxgate/protocol`): the app only needs to know when to refresh, and the voice API is the one that
 * verifies. Undefined when the token is not a decodable JWT with an `exp`.
 * @example jwtTimes(token)?.exp // 1767225600
 */
export function jwtTimes(token: string): JwtTimes | undefined {
  const claims = readJwt(token)
  return claims && { exp: claims.exp, iat: claims.iat }
}
