import { randomBytes, timingSafeEqual } from 'node:crypto'
import { randomId } from '../ids.ts'
import { sha256Hex } from '../sha256.ts'

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

export const hashApiKey = (key: string): string => sha256Hex(key)

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
