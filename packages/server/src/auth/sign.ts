import { sign, type KeyObject } from 'node:crypto'

const base64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')

/**
 * A compact JWS (RFC 7515) over `claims`, signed EdDSA with node:crypto's Ed25519 KeyObject directly.
 * Minting is bound by this one signature, and jose's WebCrypto path costs 2–3× the raw sign here;
 * verification stays with jose (`jwtVerify`, algorithms pinned), and tests verify every minted token
 * with it, so the two can never disagree on the format.
 *
 * The signature runs on libuv's thread pool (`sign`'s callback form), not on the event loop: it is
 * the one CPU-bound step of a mint (a third of its time on the server's thread, and more in context
 * than in a loop, its tables evicted by the request's other work), and off the loop the server
 * parses, checks and answers other requests while it runs, on another core where there is one.
 */
export function signJwt(kid: string, privateKey: KeyObject, claims: Record<string, unknown>): Promise<string> {
  return signJwtJson(kid, privateKey, JSON.stringify(claims))
}

/** `signJwt` over claims already written as JSON (a mint writes its own: TokenService says why). */
export function signJwtJson(kid: string, privateKey: KeyObject, claimsJson: string): Promise<string> {
  const input = `${encodedHeader(kid)}.${Buffer.from(claimsJson).toString('base64url')}`
  return new Promise((resolve, reject) => {
    // The input is base64url and dots, all ASCII: latin1 gives its UTF-8 bytes without UTF-8's length pass.
    sign(null, Buffer.from(input, 'latin1'), privateKey, (err, signature) => {
      if (err) reject(err)
      else resolve(`${input}.${signature.toString('base64url')}`)
    })
  })
}

/** The header is the same for every token of a signing key: encoded once per key (there are a handful). */
const headers = new Map<string, string>()
function encodedHeader(kid: string): string {
  let header = headers.get(kid)
  if (header === undefined) {
    if (headers.size >= 64) headers.clear()
    header = base64url({ alg: 'EdDSA', kid, typ: 'JWT' })
    headers.set(kid, header)
  }
  return header
}
