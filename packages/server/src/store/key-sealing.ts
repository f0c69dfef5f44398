import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { StoreError } from './errors.ts'

/**
 * Signing keys at rest in a shared database: AES-256-GCM under a key-encryption key (KEK) that lives
 * only in the servers' environment, a random 96-bit nonce per key, and the kid as associated data so
 * a sealed key cannot be moved to another kid. Someone who can read (or write) the database still
 * cannot sign a token. Format: `v1:` + base64(nonce ‖ ciphertext ‖ tag).
 */
const VERSION = 'v1:'
const NONCE_BYTES = 12
const TAG_BYTES = 16
export const KEK_ENV = 'VOXGATE_KEY_ENCRYPTION_KEY'

/** A KEK as `openssl rand -base64 32` prints it: exactly 32 bytes, canonical base64. */
export function parseKek(base64: string | undefined): Buffer {
  if (base64 === undefined || base64.trim() === '') {
    throw new StoreError(
      'kek_missing',
      `a PostgreSQL store needs ${KEK_ENV} (32 random bytes in base64: openssl rand -base64 32)`,
    )
  }
  const text = base64.trim()
  const key = Buffer.from(text, 'base64')
  if (key.length !== 32 || key.toString('base64') !== text) {
    throw new StoreError('kek_invalid', `${KEK_ENV} must be 32 bytes in base64 (openssl rand -base64 32)`)
  }
  return key
}

export function seal(kek: Buffer, kid: string, plaintext: string): string {
  const nonce = randomBytes(NONCE_BYTES)
  const cipher = createCipheriv('aes-256-gcm', kek, nonce).setAAD(Buffer.from(kid))
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
  return VERSION + Buffer.concat([nonce, body, cipher.getAuthTag()]).toString('base64')
}

export function unseal(kek: Buffer, kid: string, sealed: string): string {
  const raw = sealed.startsWith(VERSION) ? Buffer.from(sealed.slice(VERSION.length), 'base64') : Buffer.alloc(0)
  try {
    if (raw.length < NONCE_BYTES + TAG_BYTES) throw new Error('short')
    const decipher = createDecipheriv('aes-256-gcm', kek, raw.subarray(0, NONCE_BYTES)).setAAD(Buffer.from(kid))
    decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES))
    return Buffer.concat([
      decipher.update(raw.subarray(NONCE_BYTES, raw.length - TAG_BYTES)),
      decipher.final(),
    ]).toString('utf8')
  } catch {
    throw new StoreError(
      'kek_wrong',
      `${KEK_ENV} does not open the signing keys in this database (it is not the key they were sealed with)`,
    )
  }
}
