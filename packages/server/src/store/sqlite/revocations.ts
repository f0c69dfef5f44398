import type { Revocation, RevocationStore } from '../revocations.ts'
import type { SqliteContext } from './context.ts'

export const REVOCATIONS_SCHEMA = `
CREATE TABLE IF NOT EXISTS revocations (
  id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL CHECK (kind IN ('jti', 'sub')),
  value TEXT NOT NULL, issued_before INTEGER, expires_at INTEGER NOT NULL);
`

export interface RevocationRow {
  kind: 'jti' | 'sub'
  value: string
  issued_before: number | null
  expires_at: number
}

export const toRevocation = (r: RevocationRow): Revocation =>
  r.kind === 'jti'
    ? { kind: 'jti', jti: r.value, expiresAt: r.expires_at }
    : { kind: 'sub', sub: r.value, issuedBefore: r.issued_before ?? 0, expiresAt: r.expires_at }

/** Every revocation, in the order added (the snapshot's). */
export const ALL_REVOCATIONS = 'SELECT kind, value, issued_before, expires_at FROM revocations ORDER BY id'
export const PRUNE_REVOCATIONS = 'DELETE FROM revocations WHERE expires_at < ?'

/** Revocations in SQLite (revocations.ts states the contract). */
export function sqliteRevocations(ctx: SqliteContext): RevocationStore {
  const insert = ctx.db.prepare('INSERT INTO revocations (kind, value, issued_before, expires_at) VALUES (?, ?, ?, ?)')
  return {
    async addRevocation(r, audit) {
      ctx.write(() => {
        if (r.kind === 'jti') insert.run('jti', r.jti, null, r.expiresAt)
        else insert.run('sub', r.sub, r.issuedBefore, r.expiresAt)
        ctx.audit(audit)
      })
    },
  }
}
