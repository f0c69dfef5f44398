import * as crypto from 'node:crypto'
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { randomId } from '../ids.ts'

/** Every voxgate API key starts with this, so a leaked key is recognisable (and scannable). */
export const API_KEY_PREFIX = 'sk_vx_'
/** Characters of the key kept for display: the prefix plus a few random characters. */
const DISPLAY_CHARS = API_KEY_PREFIX.length + 6
/** Longest credential we will even hash; anything longer is refused unread. */
export { CREDENTIAL_MAX_CHARS } from '@voxgate/protocol'

export interface NewApiKey {
  id: string
  key: string
  hash: string
  prefix: string
}

// One-shot `crypto.hash` costs a quarter of a Hash object on every API key use; it came in Node 20.12
// and the engines field still allows 20.11.
const oneShot: typeof crypto.hash | undefined = crypto.hash
export const hashApiKey = (key: string): string =>
  oneShot ? oneShot('sha256', key, 'hex') : createHash('sha256').update(key).digest('hex')

export function generateApiKey(): NewApiKey {
  const key = API_KEY_PREFIX + randomBytes(32).toString('base64url')
  return { id: randomId('key'), key, hash: hashApiKey(key), prefix: key.slice(0, DISPLAY_CHARS) }
}

const JWT_SHAPE = /^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/

/** Keys and tokens travel in the same carriers (PROTOCOL.md §0.3); the value tells them apart. */
export const looksLikeJwt = (value: string): boolean => JWT_SHAPE.test(value)

/** Constant-time comparison of two hex digests of equal length. */
export function sameDigest(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex')
  const y = Buffer.from(b, 'hex')
  return x.length === y.length && timingSafeEqual(x, y)
}
