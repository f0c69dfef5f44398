/**
 * Short-lived counters several processes must share when there is no Redis: concurrent-stream slots
 * as leases that expire unless renewed, and fixed rate windows. (With `--redis`, Redis holds them.)
 *
 * Each step is atomic across every process sharing the store: a slot is never granted past its
 * limit, a window never counts past its limit. They never move the version; `prune` (state.ts) drops
 * expired leases and windows older than an hour.
 */
export interface SharedCounters {
  /** Takes one of `limit` slots of token `jti` as lease `leaseId`, expiring at `nowMs + ttlMs`; false when all are held. */
  acquireSlot(jti: string, leaseId: string, limit: number, nowMs: number, ttlMs: number): Promise<boolean>
  /** Extends the leases this process holds (re-adding any that were lost). */
  renewSlots(leases: readonly { jti: string; leaseId: string }[], nowMs: number, ttlMs: number): Promise<void>
  releaseSlot(jti: string, leaseId: string): Promise<void>
  /** Leases of token `jti` not expired at `nowMs`. */
  countSlots(jti: string, nowMs: number): Promise<number>
  /** Counts one hit in `key`'s fixed window; 0 when within `limit`, else the ms until the window ends (not counted). */
  takeRate(key: string, limit: number, windowMs: number, nowMs: number): Promise<number>
}
