import type { ConsoleSessionRecord, ConsoleSessionStore } from '../console-sessions.ts'
import type { PgQuery } from './connection.ts'
import type { PgContext } from './context.ts'
import { appendAudit } from './audit.ts'

interface SessionRow {
  id_hash: string
  key_id: string | null
  scope: 'admin' | 'read'
  created_at: string
  last_seen_at: string
  expires_at: string
}
const toSession = (r: SessionRow): ConsoleSessionRecord => ({
  idHash: r.id_hash,
  keyId: r.key_id,
  scope: r.scope,
  createdAt: Number(r.created_at),
  lastSeenAt: Number(r.last_seen_at),
  expiresAt: Number(r.expires_at),
})

/** Console sign-in codes and sessions in PostgreSQL (console-sessions.ts states the contract). */
export function pgConsoleSessions(c: PgContext): ConsoleSessionStore {
  const { query } = c
  return {
    async addConsoleLoginCode(codeHash, expiresAt) {
      await query('INSERT INTO console_login_codes (code_hash, expires_at) VALUES ($1, $2)', [codeHash, expiresAt])
    },

    async takeConsoleLoginCode(codeHash, nowMs) {
      // One DELETE: of two instances racing with one code, only one gets its row back.
      const { rows } = await query<{ expires_at: string }>(
        'DELETE FROM console_login_codes WHERE code_hash = $1 RETURNING expires_at',
        [codeHash],
      )
      return rows.length === 1 && Number(rows[0]!.expires_at) > nowMs
    },

    async createConsoleSession(r, audit) {
      const insert = (q: PgQuery) =>
        q(
          'INSERT INTO console_sessions (id_hash, key_id, scope, created_at, last_seen_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)',
          [r.idHash, r.keyId, r.scope, r.createdAt, r.lastSeenAt, r.expiresAt],
        )
      if (!audit) {
        await insert(query)
        return
      }
      await c.transaction(async (q) => {
        await insert(q)
        await appendAudit(q, audit)
      })
    },

    async getConsoleSession(idHash) {
      const { rows } = await query<SessionRow>('SELECT * FROM console_sessions WHERE id_hash = $1', [idHash])
      return rows[0] && toSession(rows[0])
    },

    async touchConsoleSession(idHash, atMs) {
      const sql = 'UPDATE console_sessions SET last_seen_at = GREATEST(last_seen_at, $1) WHERE id_hash = $2'
      await query(sql, [atMs, idHash])
    },

    async endConsoleSession(idHash) {
      return (await query('DELETE FROM console_sessions WHERE id_hash = $1', [idHash])).rowCount === 1
    },

    async pruneConsoleSessions(nowMs, idleBeforeMs) {
      await query('DELETE FROM console_sessions WHERE expires_at <= $1 OR last_seen_at < $2', [nowMs, idleBeforeMs])
      await query('DELETE FROM console_login_codes WHERE expires_at <= $1', [nowMs])
    },
  }
}
