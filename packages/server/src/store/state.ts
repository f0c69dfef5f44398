import type { Revocation } from './revocations.ts'
import type { SigningKeyRecord } from './signing-keys.ts'

export interface StoreSnapshot {
  /** Monotonic change counter; a poller reloads only when it moved. */
  version: number
  revokedKeyIds: string[]
  signingKeys: SigningKeyRecord[]
  revocations: Revocation[]
}

/**
 * What every instance's poller and housekeeping read and prune across the concerns: the version,
 * the snapshot of what each instance holds in memory, and the store's own life.
 *
 * - Every change to API keys, signing keys, revocations or quotas moves `version()` forward in the
 *   same transaction as the change, so a poller that sees the same version has nothing to reload; a
 *   call that changes nothing leaves it alone.
 * - `snapshot()` is one consistent read (a version and the state it names).
 */
export interface StoreState {
  version(): Promise<number>
  /**
   * `version()` answered synchronously, where reading it costs no round trip (SQLite: one indexed
   * read in this process). The authenticator reads a known API key's row again only when it moved; a
   * store without it has the row read on every key use.
   */
  versionNow?(): number
  snapshot(): Promise<StoreSnapshot>
  /**
   * Drops signing keys retired before `beforeMs`, revocations that expired before it (moving the
   * version only when it dropped one of these), the usage counters of tokens that expired before it,
   * and expired slot leases and old rate windows (housekeeping).
   */
  prune(beforeMs: number): Promise<void>
  /** Ends the store; pending settlements are written first. */
  close(): Promise<void>
}
