import { VoxgateError } from '@voxgate/protocol'
import type { Clock } from '../clock.ts'
import type { Store } from '../store/types.ts'
import { hashApiKey, looksLikeJwt, sameDigest } from './api-keys.ts'
import type { ApiKeyPrincipal, Principal } from './principal.ts'
import type { RevocationList } from './revocations.ts'
import type { TokenService } from './tokens.ts'

/** Last-used times are informational: written at most this often per key. */
const TOUCH_INTERVAL_MS = 60_000

/** Turns a credential value into a Principal, or throws a coded 401. */
export class Authenticator {
  readonly #touched = new Map<string, number>()

  constructor(
    private readonly store: Store,
    private readonly tokens: TokenService,
    private readonly revocations: RevocationList,
    private readonly clock: Clock,
  ) {}

  authenticate(value: string): Promise<Principal> {
    return looksLikeJwt(value) ? this.tokens.verify(value) : this.#apiKey(value)
  }

  async #apiKey(key: string): Promise<ApiKeyPrincipal> {
    const hash = hashApiKey(key)
    // The lookup is by digest, so timing reveals nothing about the key; the final comparison is
    // constant-time all the same.
    const record = await this.store.findApiKeyByHash(hash)
    if (!record || !sameDigest(record.hash, hash)) throw new VoxgateError('invalid_credentials', 'The API key is not valid.')
    if (record.revokedAt !== null) {
      this.revocations.revokeKey(record.id)
      throw new VoxgateError('invalid_credentials', 'The API key has been revoked.')
    }
    this.#touch(record.id)
    return { kind: 'api_key', keyId: record.id }
  }

  #touch(keyId: string): void {
    const now = this.clock.now()
    if (now - (this.#touched.get(keyId) ?? 0) < TOUCH_INTERVAL_MS) return
    this.#touched.set(keyId, now)
    // Informational only: a busy or read-only store must never fail (or crash) the request.
    this.store.touchApiKey(keyId, now).catch(() => undefined)
  }
}
