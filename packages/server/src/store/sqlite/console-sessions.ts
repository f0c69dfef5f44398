import type { ConsoleSessionRecord, ConsoleSessionStore } from '../console-sessions.ts'
import type { SqliteContext } from './context.ts'

export const CONSOLE_SCHEMA = `
CREATE TABLE IF NOT EXISTS console_login_codes (code_hash TEXT PRIMARY KEY, expires_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS console_sessions (
  id_hash TEXT PRIMARY KEY, key_id TEXT, scope TEXT NOT NULL CHECK (scope IN ('admin', 'read')),
  created_at INTEGER NOT NULL, last_seen_at INTEGER NOT NULL, expires_at INTEGER NOT NULL);
`

interface SessionRow {
  id_hash: string
  key_id: string | null
  scope: 'admin' | 'read'
  created_at: number
  last_seen_at: number
  expires_at: number
}
const toSession = (r: SessionRow): ConsoleSessionRecord => ({
  idHash: r.id_hash,
  keyId: r.key_id,
  scope: r.scope,
  createdAt: r.created_at,
  lastSeenAt: r.last_seen_at,
  expiresAt: r.expires_at,
})

/** Console sign-in codes and sessions in SQLite (console-sessions.ts states the contract). */
export function sqliteConsoleSessions(c: SqliteContext): ConsoleSessionStore {
  const { db } = c
  const stmt = {
    codeInsert: db.prepare('INSERT INTO console_login_codes (code_hash, expires_at) VALUES (?, ?)'),
    codeTake: db.prepare<[string], { expires_at: number }>(
      'DELETE FROM console_login_codes WHERE code_hash = ? RETURNING expires_at',
    ),
    codePrune: db.prepare('DELETE FROM console_login_codes WHERE expires_at <= ?'),
    insert: db.prepare(
      'INSERT INTO console_sessions (id_hash, key_id, scope, created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    get: db.prepare<[string], SessionRow>('SELECT * FROM console_sessions WHERE id_hash = ?'),
    touch: db.prepare('UPDATE console_sessions SET last_seen_at = MAX(last_seen_at, ?) WHERE id_hash = ?'),
    end: db.prepare('DELETE FROM console_sessions WHERE id_hash = ?'),
    prune: db.prepare('DELETE FROM console_sessions WHERE expires_at <= ? OR last_seen_at < ?'),
  }
  return {
    async addConsoleLoginCode(codeHash, expiresAt) {
      stmt.codeInsert.run(codeHash, expiresAt)
    },

    async takeConsoleLoginCode(codeHash, nowMs) {
      // One DELETE: of two processes racing with one code, only one gets its row back.
      const row = stmt.codeTake.get(codeHash)
      return row !== undefined && row.expires_at > nowMs
    },

    async createConsoleSession(r, audit) {
      db.transaction(() => {
        stmt.insert.run(r.idHash, r.keyId, r.scope, r.createdAt, r.lastSeenAt, r.expiresAt)
        c.audit(audit)
      })()
    },

    async getConsoleSession(idHash) {
      const row = stmt.get.get(idHash)
      return row && toSession(row)
    },

    async touchConsoleSession(idHash, atMs) {
      stmt.touch.run(atMs, idHash)
    },

    async endConsoleSession(idHash) {
      return stmt.end.run(idHash).changes === 1
    },

    async pruneConsoleSessions(nowMs, idleBeforeMs) {
      stmt.prune.run(nowMs, idleBeforeMs)
      stmt.codePrune.run(nowMs)
    },
  }
}
