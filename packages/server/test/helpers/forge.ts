import { createHmac, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { SignJWT, decodeJwt, decodeProtectedHeader } from 'jose'

const b64 = (v: unknown): string => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url')

/** Signs arbitrary claims with the given Ed25519 key (the server's own, for pinning tests). */
export function signWith(
  key: KeyObject,
  kid: string,
  claims: Record<string, unknown>,
  header: Record<string, unknown> = {},
): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', kid, typ: 'JWT', ...header }).sign(key)
}

/** Every way we know to forge a token from a genuine one. */
export function forgeries(genuine: string, publicPem: string): Record<string, string> {
  const [h, p, s] = genuine.split('.') as [string, string, string]
  const header = decodeProtectedHeader(genuine)
  const claims = decodeJwt(genuine)
  const hs256Header = b64({ ...header, alg: 'HS256' })
  const hs256Payload = b64({ ...claims, grants: { tts: true, voices: true } })
  const hs256Sig = createHmac('sha256', publicPem).update(`${hs256Header}.${hs256Payload}`).digest('base64url')
  const flipped = (s[0] === 'A' ? 'B' : 'A') + s.slice(1)
  const other = generateKeyPairSync('ed25519')
  return {
    'tampered payload': `${h}.${b64({ ...claims, grants: { tts: true, voices: true } })}.${s}`,
    'tampered signature': `${h}.${p}.${flipped}`,
    'alg none': `${b64({ alg: 'none', typ: 'JWT' })}.${p}.`,
    'HS256 signed with the public key': `${hs256Header}.${hs256Payload}.${hs256Sig}`,
    'unknown kid': `${b64({ ...header, kid: 'sig_unknown' })}.${p}.${s}`,
    'jwk header injection': `${b64({ ...header, jwk: other.publicKey.export({ format: 'jwk' }) })}.${p}.${s}`,
    'jku header injection': `${b64({ ...header, jku: 'https://127.0.0.1:1/jwks.json' })}.${p}.${s}`,
    'x5u header injection': `${b64({ ...header, x5u: 'https://127.0.0.1:1/cert.pem' })}.${p}.${s}`,
    garbage: 'eyJhbGciOiJFZERTQSJ9.bm90IGpzb24.c2ln',
  }
}

export function foreignKey(): KeyObject {
  return generateKeyPairSync('ed25519').privateKey
}
