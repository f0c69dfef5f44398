import { VoxgateError } from '@voxgate/protocol'
import type { Clock } from '../clock.ts'
import { clientFacing } from '../store/errors.ts'
import { auditDraft } from '../store/audit-types.ts'
import type { ApiKeyRecord, Store } from '../store/types.ts'
import { hashApiKey, looksLikeJwt, sameDigest } from './api-keys.ts'
import { KnownKeys } from './known-keys.ts'
import type { ApiKeyPrincipal, Principal } from './principal.ts'
import type { RevocationList } from './revocations.ts'
import type { TokenService } from './tokens.ts'

/** Last-used times are informational: written at most this often per key. */
const TOUCH_INTERVAL_MS = 60_000
/** Keys whose expired use was audited recently; the map is cleared past this. */
const EXPIRED_AUDITED_MAX = 10_000
/** `api_key.expired_used` is written at most once per key per this long, across every instance. */
export const EXPIRED_USE_AUDIT_INTERVAL_MS = 3_600_000

/** Where a credential was presented, for the audit row of an expired key's use. */
export interface CredentialOrigin {
  requestId: string
  ip?: string | undefined
}

/** Turns a credential value into a Principal, or throws a coded 401. */
export class Authenticator {
  readonly #touched = new Map<string, number>()
  /**
   * Keys this instance has verified, by digest. A key is read from the store again only when the
   * store's change counter moved since (so a key revoked or rotated by any process is refused at
   * once); while the store does not answer, a known key, checked against the revocation list last
   * read from the store, keeps working.
   */
  readonly #known = new KnownKeys()
  /** When this instance last wrote `api_key.expired_used` per key: the store is asked at most once an hour per key. */
  readonly #expiredAudited = new Map<string, number>()
  readonly #onKeyUsed: ((keyId: string) => void)[] = []
  /**
   * The store's change counter, read on every API key's check: the method is looked up once, not
   * through the store's proxies (deadline, fault log, metrics) on every call; their wrappers still run.
   */
  readonly #versionNow: (() => number) | undefined

  constructor(
    private readonly store: Store,
    private readonly tokens: TokenService,
    private readonly revocations: RevocationList,
    private readonly clock: Clock,
  ) {
    this.#versionNow = store.versionNow?.bind(store)
  }

  /** Calls `listener` with a key's id when it is used: the first time, then at most once a minute. */
  onKeyUsed(listener: (keyId: string) => void): void {
    this.#onKeyUsed.push(listener)
  }

  /**
   * Drops what this instance remembers of a key's secrets (after a rotation here), so a secret seen
   * before the rotation cannot outlive its grace from memory while the store is down.
   */
  forgetKey(keyId: string): void {
    this.#known.forget(keyId)
  }

  /** `origin` (the request's id and address) goes into the audit row when an expired key is tried. */
  authenticate(value: string, origin?: CredentialOrigin): Promise<Principal> {
    return looksLikeJwt(value) ? this.tokens.verify(value) : this.#apiKey(value, origin)
  }

  async #apiKey(key: string, origin: CredentialOrigin | undefined): Promise<ApiKeyPrincipal> {
    const hash = hashApiKey(key)
    const version = this.#storeVersion()
    const fresh = this.#known.fresh(hash, this.clock.now(), version)
    if (fresh !== undefined && !this.revocations.isKeyRevoked(fresh.keyId)) {
      this.#touch(fresh.keyId)
      return fresh
    }
    // The lookup is by digest, so timing reveals nothing about the key; the final comparison is
    // constant-time all the same.
    let record: Awaited<ReturnType<Store['findApiKeyByHash']>>
    try {
      record = await this.store.findApiKeyByHash(hash)
    } catch (err) {
      const known = this.#known.fallback(hash, this.clock.now())
      if (known === undefined || this.revocations.isKeyRevoked(known.keyId)) throw clientFacing(err)
      return known
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
    const until = [record.expiresAt, previous ? record.rotatingUntil : null].filter((t) => t !== null)
    // The version read before the row: a change committed in between moves it past this one.
    this.#known.remember(hash, { principal, until: until.length > 0 ? Math.min(...until) : null, version })
    this.#touch(record.id)
    return principal
  }

  /** The store's change counter where reading it costs no round trip; undefined (read the row) otherwise. */
  #storeVersion(): number | undefined {
    try {
      return this.#versionNow?.()
    } catch {
      return undefined
    }
  }

  /**
   * Records that an expired key (or a rotated-out secret past its grace) was tried: at most once per
   * key per hour across instances (the store decides), and never in the way of the 401.
   */
  #auditExpiredUse(record: ApiKeyRecord, reason: 'expired' | 'rotated', origin: CredentialOrigin | undefined): void {
    const now = this.clock.now()
    if (now - (this.#expiredAudited.get(record.id) ?? -Infinity) < EXPIRED_USE_AUDIT_INTERVAL_MS) return
    if (this.#expiredAudited.size >= EXPIRED_AUDITED_MAX) this.#expiredAudited.clear()
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
