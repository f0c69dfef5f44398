import { VoxgateError } from '@voxgate/protocol'
import type { Clock } from '../clock.ts'
import { clientFacing } from '../store/errors.ts'
import { auditDraft } from '../store/audit-types.ts'
import type { ApiKeyRecord, Store } from '../store/types.ts'
import { hashApiKey, looksLikeJwt, sameDigest } from './api-keys.ts'
import type { ApiKeyPrincipal, Principal } from './principal.ts'
import type { RevocationList } from './revocations.ts'
import type { TokenService } from './tokens.ts'

/** Last-used times are informational: written at most this often per key. */
const TOUCH_INTERVAL_MS = 60_000
/** API keys remembered after a successful lookup (digest → principal); the oldest go first past this. */
const KNOWN_KEYS_MAX = 10_000
/** `api_key.expired_used` is written at most once per key per this long, across every instance. */
export const EXPIRED_USE_AUDIT_INTERVAL_MS = 3_600_000

/** Where a credential was presented, for the audit row of an expired key's use. */
export interface CredentialOrigin {
  requestId: string
  ip?: string | undefined
}

interface KnownKey {
  principal: ApiKeyPrincipal
  /** When this secret stops working (expiry, or the end of a rotation's grace); null: never. */
  until: number | null
}

/** Turns a credential value into a Principal, or throws a coded 401. */
export class Authenticator {
  readonly #touched = new Map<string, number>()
  /**
   * Keys this instance has seen, by digest. The store is read on every key use (so a revoked key is
   * refused at once); only while the store does not answer does a known key, checked against the
   * revocation list last read from the store, keep working.
   */
  readonly #known = new Map<string, KnownKey>()
  /** When this instance last wrote `api_key.expired_used` per key: the store is asked at most once an hour per key. */
  readonly #expiredAudited = new Map<string, number>()
  readonly #onKeyUsed: ((keyId: string) => void)[] = []

  constructor(
    private readonly store: Store,
    private readonly tokens: TokenService,
    private readonly revocations: RevocationList,
    private readonly clock: Clock,
  ) {}

  /** Calls `listener` with a key's id when it is used: the first time, then at most once a minute. */
  onKeyUsed(listener: (keyId: string) => void): void {
    this.#onKeyUsed.push(listener)
  }

  /**
   * Drops what this instance remembers of a key's secrets (after a rotation here), so a secret seen
   * before the rotation cannot outlive its grace from memory while the store is down.
   */
  forgetKey(keyId: string): void {
    for (const [hash, known] of this.#known) if (known.principal.keyId === keyId) this.#known.delete(hash)
  }

  /** `origin` (the request's id and address) goes into the audit row when an expired key is tried. */
  authenticate(value: string, origin?: CredentialOrigin): Promise<Principal> {
    return looksLikeJwt(value) ? this.tokens.verify(value) : this.#apiKey(value, origin)
  }

  async #apiKey(key: string, origin: CredentialOrigin | undefined): Promise<ApiKeyPrincipal> {
    const hash = hashApiKey(key)
    // The lookup is by digest, so timing reveals nothing about the key; the final comparison is
    // constant-time all the same.
    let record: Awaited<ReturnType<Store['findApiKeyByHash']>>
    try {
      record = await this.store.findApiKeyByHash(hash)
    } catch (err) {
      const known = this.#known.get(hash)
      if (
        known === undefined ||
        this.revocations.isKeyRevoked(known.principal.keyId) ||
        (known.until !== null && known.until <= this.clock.now())
      )
        throw clientFacing(err)
      return known.principal
    }
    // A rotated key answers to its new secret and, until the grace ends, to the one it replaced.
    const previous = record !== undefined && record.hash !== hash
    if (!record || !sameDigest(previous ? (record.previousHash ?? '') : record.hash, hash))
      throw new VoxgateError('invalid_credentials', 'The API key is not valid.')
    if (record.revokedAt !== null) {
      this.revocations.revokeKey(record.id)
      throw new VoxgateError('invalid_credentials', 'The API key has been revoked.')
    }
    const now = this.clock.now()
    if (record.expiresAt !== null && record.expiresAt <= now) {
      this.#auditExpiredUse(record, 'expired', origin)
      throw new VoxgateError('api_key_expired', 'The API key has expired.')
    }
    if (previous && (record.rotatingUntil === null || record.rotatingUntil <= now)) {
      this.#auditExpiredUse(record, 'rotated', origin)
      throw new VoxgateError(
        'api_key_expired',
        'This secret of the API key was replaced by a rotation whose grace period has ended; use the new secret.',
      )
    }
    const principal: ApiKeyPrincipal = {
      kind: 'api_key',
      keyId: record.id,
      scopes: record.scopes,
      policy: record.policy,
    }
    if (this.#known.size >= KNOWN_KEYS_MAX) this.#known.delete(this.#known.keys().next().value!)
    const until = [record.expiresAt, previous ? record.rotatingUntil : null].filter((t) => t !== null)
    this.#known.set(hash, { principal, until: until.length > 0 ? Math.min(...until) : null })
    this.#touch(record.id)
    return principal
  }

  /**
   * Records that an expired key (or a rotated-out secret past its grace) was tried: at most once per
   * key per hour across instances (the store decides), and never in the way of the 401.
   */
  #auditExpiredUse(record: ApiKeyRecord, reason: 'expired' | 'rotated', origin: CredentialOrigin | undefined): void {
    const now = this.clock.now()
    if (now - (this.#expiredAudited.get(record.id) ?? -Infinity) < EXPIRED_USE_AUDIT_INTERVAL_MS) return
    if (this.#expiredAudited.size >= KNOWN_KEYS_MAX) this.#expiredAudited.clear()
    this.#expiredAudited.set(record.id, now)
    const draft = auditDraft(
      { actor: { type: 'api_key', keyId: record.id }, requestId: origin?.requestId ?? 'none', ip: origin?.ip },
      { at: now, action: 'api_key.expired_used', target: { type: 'api_key', id: record.id }, details: { reason } },
    )
    this.store
      .appendAudit(draft, { key: `api_key.expired_used:${record.id}`, withinMs: EXPIRED_USE_AUDIT_INTERVAL_MS })
      .catch(() => this.#expiredAudited.delete(record.id))
  }

  #touch(keyId: string): void {
    const now = this.clock.now()
    if (now - (this.#touched.get(keyId) ?? 0) < TOUCH_INTERVAL_MS) return
    this.#touched.set(keyId, now)
    // Informational only: a busy or read-only store must never fail (or crash) the request.
    this.store.touchApiKey(keyId, now).catch(() => undefined)
    for (const listener of this.#onKeyUsed) listener(keyId)
  }
}
