import type Database from 'better-sqlite3'
import type { SharedCounters } from './types.ts'

export const COUNTERS_SCHEMA = `
CREATE TABLE IF NOT EXISTS stream_slots (
  jti TEXT NOT NULL, lease_id TEXT NOT NULL, expires_at INTEGER NOT NULL, PRIMARY KEY (jti, lease_id));
CREATE TABLE IF NOT EXISTS rate_windows (
  key TEXT PRIMARY KEY, started_at INTEGER NOT NULL, count INTEGER NOT NULL);
`

/**
 * The shared counters in the SQLite file, for several voxgate processes on one data folder without
 * Redis. Each step is one IMMEDIATE transaction (the write lock is taken before reading), so two
 * processes can never both take the last slot or the last unit of a window.
 */
export class SqliteCounters implements SharedCounters {
  readonly #stmt

  constructor(private readonly db: Database.Database) {
    db.exec(COUNTERS_SCHEMA)
    this.#stmt = {
      dropExpired: db.prepare('DELETE FROM stream_slots WHERE jti = ? AND expires_at <= ?'),
      count: db.prepare<[string, number], { n: number }>(
        'SELECT COUNT(*) AS n FROM stream_slots WHERE jti = ? AND expires_at > ?',
      ),
      upsertSlot: db.prepare(
        'INSERT INTO stream_slots (jti, lease_id, expires_at) VALUES (?, ?, ?) ON CONFLICT (jti, lease_id) DO UPDATE SET expires_at = excluded.expires_at',
      ),
      releaseSlot: db.prepare('DELETE FROM stream_slots WHERE jti = ? AND lease_id = ?'),
      window: db.prepare<[string], { started_at: number; count: number }>(
        'SELECT started_at, count FROM rate_windows WHERE key = ?',
      ),
      startWindow: db.prepare(
        'INSERT INTO rate_windows (key, started_at, count) VALUES (?, ?, 1) ON CONFLICT (key) DO UPDATE SET started_at = excluded.started_at, count = 1',
      ),
      countWindow: db.prepare('UPDATE rate_windows SET count = count + 1 WHERE key = ?'),
      pruneSlots: db.prepare('DELETE FROM stream_slots WHERE expires_at <= ?'),
      pruneWindows: db.prepare('DELETE FROM rate_windows WHERE started_at < ?'),
    }
  }

  async acquireSlot(jti: string, leaseId: string, limit: number, nowMs: number, ttlMs: number): Promise<boolean> {
    return this.db
      .transaction(() => {
        this.#stmt.dropExpired.run(jti, nowMs)
        if ((this.#stmt.count.get(jti, nowMs)?.n ?? 0) >= limit) return false
        this.#stmt.upsertSlot.run(jti, leaseId, nowMs + ttlMs)
        return true
      })
      .immediate()
  }

  async renewSlots(leases: readonly { jti: string; leaseId: string }[], nowMs: number, ttlMs: number): Promise<void> {
    this.db
      .transaction(() => {
        for (const l of leases) this.#stmt.upsertSlot.run(l.jti, l.leaseId, nowMs + ttlMs)
      })
      .immediate()
  }

  async releaseSlot(jti: string, leaseId: string): Promise<void> {
    this.#stmt.releaseSlot.run(jti, leaseId)
  }

  async countSlots(jti: string, nowMs: number): Promise<number> {
    return this.#stmt.count.get(jti, nowMs)?.n ?? 0
  }

  async takeRate(key: string, limit: number, windowMs: number, nowMs: number): Promise<number> {
    return this.db
      .transaction(() => {
        const w = this.#stmt.window.get(key)
        if (!w || nowMs - w.started_at >= windowMs) {
          this.#stmt.startWindow.run(key, nowMs)
          return 0
        }
        if (w.count >= limit) return Math.max(1, w.started_at + windowMs - nowMs)
        this.#stmt.countWindow.run(key)
        return 0
      })
      .immediate()
  }

  /** Housekeeping: expired leases, and windows older than any rule's (an hour). */
  prune(nowMs: number): void {
    this.#stmt.pruneSlots.run(nowMs)
    this.#stmt.pruneWindows.run(nowMs - 3_600_000)
  }
}
