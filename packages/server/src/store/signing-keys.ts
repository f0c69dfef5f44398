import type { ChangeTrail } from './trail.ts'

export interface SigningKeyRecord {
  kid: string
  /** PKCS#8 PEM of the Ed25519 private key (sealed with the KEK in PostgreSQL, key-sealing.ts). */
  privatePem: string
  createdAt: number
  /** When it stopped signing (a newer key took over); null for the current key. */
  retiredAt: number | null
}

/**
 * The keys that sign access tokens. Every instance reads them through `snapshot()` (state.ts); each
 * change moves the version in its own transaction, and one that changes nothing (retiring a retired
 * key) leaves it alone. Retired keys are dropped by `prune` once their tokens are dead.
 */
export interface SigningKeyStore {
  addSigningKey(record: SigningKeyRecord): Promise<void>
  /** Retires a key at `atMs`; a no-op (version unmoved) for a key already retired or unknown. */
  retireSigningKey(kid: string, atMs: number): Promise<void>
  /**
   * Adds `record` and retires every other active signing key at its `createdAt`, in one transaction;
   * returns the kids retired, oldest first (also added to the audit row's details as `retired`, and
   * handed to the trail's event). Moves the version.
   */
  replaceSigningKey(record: SigningKeyRecord, trail?: ChangeTrail<string[]>): Promise<string[]>
}
