import type Database from 'better-sqlite3'
import type { SharedCounters } from '../counters.ts'

export const COUNTERS_SCHEMA = `
CREATE TABLE IF NOT EXISTS stream_slots (
  jti TEXT NOT NULL, lease_id TEXT NOT NULL, expires_at INTEGER NOT NULL, PRIMARY KEY (jti, lease_id));
CREATE TABLE IF NOT EXISTS rate_windows (
  key TEXT PRIMARY KEY, started_at INTEGER NOT NULL, count INTEGER NOT NULL);
`

/** Housekeeping: expired leases, and windows older than any rule's (an hour). */
export const PRUNE_COUNTERS = [
  'DELETE FROM stream_slots WHERE expires_at <= ?',
  'DELETE FROM rate_windows WHERE started_at < ? - 3600000',
]

/**
 * The shared counters in the SQLite file, for several voxgate processes on one data folder without
 * Redis. Each step is one IMMEDIATE transaction (the write lock is taken before reading), so two
 * processes can never both take the last slot or the last unit of a window.
 */
export function sqliteCounters(db: Database.Database): SharedCounters {
  const stmt = {
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
  }
  // Each transaction made once: better-sqlite3's `db.transaction` builds its wrappers anew on every
  // call, which costs about as much as a small commit, and these run per stream and per request.
  const acquire = db.transaction((jti: string, leaseId: string, limit: number, nowMs: number, ttlMs: number) => {
    stmt.dropExpired.run(jti, nowMs)
    if ((stmt.count.get(jti, nowMs)?.n ?? 0) >= limit) return false
    stmt.upsertSlot.run(jti, leaseId, nowMs + ttlMs)
    return true
  }).immediate
  const renew = db.transaction((leases: readonly { jti: string; leaseId: string }[], nowMs: number, ttlMs: number) => {
    for (const l of leases) stmt.upsertSlot.run(l.jti, l.leaseId, nowMs + ttlMs)
  }).immediate
  const take = db.transaction((key: string, limit: number, windowMs: number, nowMs: number) => {
    const w = stmt.window.get(key)
    if (!w || nowMs - w.started_at >= windowMs) {
      stmt.startWindow.run(key, nowMs)
      return 0
    }
    if (w.count >= limit) return Math.max(1, w.started_at + windowMs - nowMs)
    stmt.countWindow.run(key)
    return 0
  }).immediate
  return {
    async acquireSlot(jti, leaseId, limit, nowMs, ttlMs) {
      return acquire(jti, leaseId, limit, nowMs, ttlMs)
    },

    async renewSlots(leases, nowMs, ttlMs) {
      renew(leases, nowMs, ttlMs)
    },

    async releaseSlot(jti, leaseId) {
      stmt.releaseSlot.run(jti, leaseId)
    },

    async countSlots(jti, nowMs) {
      return stmt.count.get(jti, nowMs)?.n ?? 0
    },

    async takeRate(key, limit, windowMs, nowMs) {
      return take(key, limit, windowMs, nowMs)
    },
  }
}
