import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto'
import type { JWK } from 'jose'
import { TOKEN_TTL_MAX_SECONDS } from '@voxgate/protocol'
import { randomId } from '../ids.ts'
import type { SigningKeyRecord, Store } from '../store/types.ts'

interface LoadedKey {
  kid: string
  privateKey: KeyObject
  publicKey: KeyObject
  jwk: JWK
  retiredAt: number | null
}

/**
 * The Ed25519 signing keys. The newest unretired key signs; every key still able to have live tokens
 * verifies. A retired key stays published until its last possible token has expired (retirement +
 * the longest lifetime + skew), then `prune` drops it.
 */
export class KeyRing {
  #keys = new Map<string, LoadedKey>()
  #current: LoadedKey | undefined

  load(records: readonly SigningKeyRecord[]): void {
    const next = new Map<string, LoadedKey>()
    for (const r of records) next.set(r.kid, this.#keys.get(r.kid) ?? loadKey(r))
    for (const k of next.values()) k.retiredAt = records.find((r) => r.kid === k.kid)?.retiredAt ?? null
    this.#keys = next
    const active = records.filter((r) => r.retiredAt === null)
    const newest = active[active.length - 1]
    this.#current = newest && next.get(newest.kid)
  }

  /** The key new tokens are signed with. */
  signer(): { kid: string; privateKey: KeyObject } {
    if (!this.#current) throw new Error('no active signing key; the server was not initialised')
    return this.#current
  }

  publicKey(kid: unknown): KeyObject | undefined {
    return typeof kid === 'string' ? this.#keys.get(kid)?.publicKey : undefined
  }

  jwks(): { keys: JWK[] } {
    return { keys: [...this.#keys.values()].map((k) => k.jwk) }
  }
}

function loadKey(r: SigningKeyRecord): LoadedKey {
  const privateKey = createPrivateKey(r.privatePem)
  const publicKey = createPublicKey(privateKey)
  const jwk = { ...(publicKey.export({ format: 'jwk' }) as JWK), kid: r.kid, alg: 'EdDSA', use: 'sig' }
  return { kid: r.kid, privateKey, publicKey, jwk, retiredAt: r.retiredAt }
}

function newSigningKey(nowMs: number): SigningKeyRecord {
  const { privateKey } = generateKeyPairSync('ed25519')
  return { kid: randomId('sig', 9), privatePem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), createdAt: nowMs, retiredAt: null }
}

/** Creates the first signing key of a fresh store; a no-op when one is active. */
export async function ensureSigningKey(store: Store, nowMs: number): Promise<void> {
  const { signingKeys } = await store.snapshot()
  if (!signingKeys.some((k) => k.retiredAt === null)) await store.addSigningKey(newSigningKey(nowMs))
}

/** Starts signing with a new key; the old ones keep verifying until their tokens have expired. */
export async function rotateSigningKey(store: Store, nowMs: number, toleranceSeconds: number): Promise<string> {
  const { signingKeys } = await store.snapshot()
  const fresh = newSigningKey(nowMs)
  await store.addSigningKey(fresh)
  for (const k of signingKeys) if (k.retiredAt === null) await store.retireSigningKey(k.kid, nowMs)
  await store.prune(nowMs - (TOKEN_TTL_MAX_SECONDS + toleranceSeconds) * 1000)
  return fresh.kid
}
