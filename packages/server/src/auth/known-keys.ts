import type { ApiKeyPrincipal } from './principal.ts'

/** API keys remembered after a successful lookup (digest → principal); the oldest go first past this. */
const KNOWN_KEYS_MAX = 10_000

interface KnownKey {
  principal: ApiKeyPrincipal
  /** When this secret stops working (expiry, or the end of a rotation's grace); null: never. */
  until: number | null
  /** The store's change counter when the row was read; undefined where the store cannot tell it cheaply. */
  version: number | undefined
}

/**
 * The API keys this process has verified, by the digest of the secret (never the secret). Two uses:
 * - `fresh`: a key whose row has not changed since it was read is not read again. The store's change
 *   counter moves with every change to any key (revocation, rotation, expiry, scopes) in the change's
 *   own transaction, by any process, so the same counter means the same row: a key revoked or rotated
 *   anywhere is refused on its next use, as when the row was read on every use.
 * - `fallback`: while the store does not answer, a key seen before keeps working unless this process
 *   knows it revoked or past its time.
 */
export class KnownKeys {
  readonly #byDigest = new Map<string, KnownKey>()

  remember(digest: string, known: KnownKey): void {
    if (!this.#byDigest.has(digest) && this.#byDigest.size >= KNOWN_KEYS_MAX)
      this.#byDigest.delete(this.#byDigest.keys().next().value!)
    this.#byDigest.set(digest, known)
  }

  /** The principal when the key is in force at `now` and the store is still at the version it was read at. */
  fresh(digest: string, now: number, version: number | undefined): ApiKeyPrincipal | undefined {
    const known = this.#byDigest.get(digest)
    if (known === undefined || version === undefined || known.version !== version) return undefined
    return known.until === null || known.until > now ? known.principal : undefined
  }

  /** What a store outage falls back on: the principal unless this process knows the key is past its time. */
  fallback(digest: string, now: number): ApiKeyPrincipal | undefined {
    const known = this.#byDigest.get(digest)
    return known !== undefined && (known.until === null || known.until > now) ? known.principal : undefined
  }

  /** Forgets every secret of a key (after a change made here), so none outlives the change from memory. */
  forget(keyId: string): void {
    for (const [digest, known] of this.#byDigest) if (known.principal.keyId === keyId) this.#byDigest.delete(digest)
  }
}
