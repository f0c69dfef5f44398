import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto'
import type { JWK } from 'jose'
import { TOKEN_TTL_MAX_SECONDS } from '@voxgate/protocol'
import { randomId } from '../ids.ts'
import { auditDraft, type AuditOrigin } from '../store/audit-types.ts'
import type { SigningKeyRecord, Store } from '../store/types.ts'
import { outboxEvent } from '../webhooks/outbox.ts'

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
  #reload: UnknownKidReload | undefined

  /**
   * Lets a token signed with a kid we have not seen reload the keys before it is refused: another
   * instance may have rotated a moment ago, and waiting for the poll would answer 401 meanwhile.
   * Reloads are shared by concurrent callers and at most one per `minIntervalMs`, so tokens with
   * made-up kids cannot turn into a flood of store reads.
   */
  onUnknownKid(
    reload: () => Promise<void>,
    minIntervalMs = UNKNOWN_KID_RELOAD_INTERVAL_MS,
    now: () => number = () => performance.now(),
  ): void {
    this.#reload = new UnknownKidReload(reload, minIntervalMs, now)
  }

  /** `publicKey`, after one rate-limited reload when the kid is unknown. */
  async findPublicKey(kid: unknown): Promise<KeyObject | undefined> {
    const known = this.publicKey(kid)
    if (known || typeof kid !== 'string' || !this.#reload) return known
    await this.#reload.run()
    return this.publicKey(kid)
  }

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

/** Unknown kids reload the signing keys at most this often (per instance). */
export const UNKNOWN_KID_RELOAD_INTERVAL_MS = 1000

class UnknownKidReload {
  #lastMs = -Infinity
  #pending: Promise<void> | undefined

  constructor(
    private readonly reload: () => Promise<void>,
    private readonly minIntervalMs: number,
    private readonly now: () => number,
  ) {}

  /** Joins the reload in flight, starts one when the interval allows, or returns at once. A failed reload just leaves the ring as it was. */
  run(): Promise<void> {
    if (this.#pending) return this.#pending
    if (this.now() - this.#lastMs < this.minIntervalMs) return Promise.resolve()
    this.#lastMs = this.now()
    this.#pending = this.reload()
      .catch(() => undefined)
      .finally(() => {
        this.#pending = undefined
      })
    return this.#pending
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
  return {
    kid: randomId('sig', 9),
    privatePem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    createdAt: nowMs,
    retiredAt: null,
  }
}

/** Creates the first signing key of a fresh store; a no-op when one is active. */
export async function ensureSigningKey(store: Store, nowMs: number): Promise<void> {
  const { signingKeys } = await store.snapshot()
  if (!signingKeys.some((k) => k.retiredAt === null)) await store.addSigningKey(newSigningKey(nowMs))
}

/**
 * Starts signing with a new key; the old ones keep verifying until their tokens have expired. The new
 * key, the old ones' retirement, the audit row and the webhook event land in one transaction.
 */
export async function rotateSigningKey(
  store: Store,
  nowMs: number,
  options: { toleranceSeconds: number; origin: AuditOrigin },
): Promise<string> {
  const fresh = newSigningKey(nowMs)
  const audit = auditDraft(options.origin, {
    at: nowMs,
    action: 'signing_key.rotated',
    target: { type: 'signing_key', id: fresh.kid },
  })
  // The kids retired are known only inside the store's transaction: it adds them to the row's details
  // and hands them to the event, which lands in the outbox in that same transaction.
  const event = (retired: string[]) =>
    outboxEvent({ type: 'signing_key.rotated', data: { kid: fresh.kid, retired }, atMs: nowMs })
  await store.replaceSigningKey(fresh, { audit, event })
  await store.prune(nowMs - (TOKEN_TTL_MAX_SECONDS + options.toleranceSeconds) * 1000)
  return fresh.kid
}
