import { VoxgateError } from '@voxgate/protocol'
import type { Clock } from '../clock.ts'
import { clientFacing } from '../store/errors.ts'
import type { Store } from '../store/types.ts'
import { hashApiKey, looksLikeJwt, sameDigest } from './api-keys.ts'
import type { ApiKeyPrincipal, Principal } from './principal.ts'
import type { RevocationList } from './revocations.ts'
import type { TokenService } from './tokens.ts'

/** Last-used times are informational: written at most this often per key. */
const TOUCH_INTERVAL_MS = 60_000
/** API keys remembered after a successful lookup (digest → principal); the oldest go first past this. */
const KNOWN_KEYS_MAX = 10_000

/** Turns a credential value into a Principal, or throws a coded 401. */
export class Authenticator {
  readonly #touched = new Map<string, number>()
  /**
   * Keys this instance has seen, by digest. The store is read on every key use (so a revoked key is
   * refused at once); only while the store does not answer does a known key, checked against the
   * revocation list last read from the store, keep working.
   */
  readonly #known = new Map<string, ApiKeyPrincipal>()
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

  authenticate(value: string): Promise<Principal> {
    return looksLikeJwt(value) ? this.tokens.verify(value) : this.#apiKey(value)
  }

  async #apiKey(key: string): Promise<ApiKeyPrincipal> {
    const hash = hashApiKey(key)
    // The lookup is by digest, so timing reveals nothing about the key; the final comparison is
    // constant-time all the same.
    let record: Awaited<ReturnType<Store['findApiKeyByHash']>>
    try {
      record = await this.store.findApiKeyByHash(hash)
    } catch (err) {
      const known = this.#known.get(hash)
      if (known === undefined || this.revocations.isKeyRevoked(known.keyId)) throw clientFacing(err)
      return known
    }
    if (!record || !sameDigest(record.hash, hash))
      throw new VoxgateError('invalid_credentials', 'The API key is not valid.')
    if (record.revokedAt !== null) {
      this.revocations.revokeKey(record.id)
      throw new VoxgateError('invalid_credentials', 'The API key has been revoked.')
    }
    if (record.expiresAt !== null && record.expiresAt <= this.clock.now())
      throw new VoxgateError('api_key_expired', 'The API key has expired.')
    const principal: ApiKeyPrincipal = {
      kind: 'api_key',
      keyId: record.id,
      scopes: record.scopes,
      policy: record.policy,
    }
    if (this.#known.size >= KNOWN_KEYS_MAX) this.#known.delete(this.#known.keys().next().value!)
    this.#known.set(hash, principal)
    this.#touch(record.id)
    return principal
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
