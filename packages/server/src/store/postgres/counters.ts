import type { SharedCounters } from '../counters.ts'
import type { PgQuery } from './connection.ts'

/**
 * The shared counters in PostgreSQL. Taking a slot and counting a hit are functions of the schema
 * (migrations.ts: `voxgate_acquire_slot`, `voxgate_take_rate`), one statement each, so instances
 * racing for the last slot or unit queue on its row.
 */
export function pgCounters(query: PgQuery): SharedCounters {
  return {
    async acquireSlot(jti, leaseId, limit, nowMs, ttlMs) {
      const sql = 'SELECT voxgate_acquire_slot($1, $2, $3, $4, $5) AS ok'
      return (await query<{ ok: boolean }>(sql, [jti, leaseId, limit, nowMs, ttlMs])).rows[0]!.ok
    },

    async renewSlots(leases, nowMs, ttlMs) {
      if (leases.length === 0) return
      await query(
        `INSERT INTO stream_slots (jti, lease_id, expires_at) SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[])
        ON CONFLICT (jti, lease_id) DO UPDATE SET expires_at = EXCLUDED.expires_at`,
        [leases.map((l) => l.jti), leases.map((l) => l.leaseId), leases.map(() => nowMs + ttlMs)],
      )
    },

    async releaseSlot(jti, leaseId) {
      await query('DELETE FROM stream_slots WHERE jti = $1 AND lease_id = $2', [jti, leaseId])
    },

    async countSlots(jti, nowMs) {
      const sql = 'SELECT count(*) AS n FROM stream_slots WHERE jti = $1 AND expires_at > $2'
      return Number((await query<{ n: string }>(sql, [jti, nowMs])).rows[0]!.n)
    },

    async takeRate(key, limit, windowMs, nowMs) {
      const sql = 'SELECT voxgate_take_rate($1, $2, $3, $4) AS wait'
      return Number((await query<{ wait: string }>(sql, [key, limit, windowMs, nowMs])).rows[0]!.wait)
    },
  }
}
