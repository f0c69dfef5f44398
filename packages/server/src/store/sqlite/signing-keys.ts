import type { SigningKeyRecord, SigningKeyStore } from '../signing-keys.ts'
import type { SqliteContext } from './context.ts'

export const SIGNING_KEYS_SCHEMA = `
CREATE TABLE IF NOT EXISTS signing_keys (
  kid TEXT PRIMARY KEY, private_pem TEXT NOT NULL, created_at INTEGER NOT NULL, retired_at INTEGER);
`

export interface SigningRow {
  kid: string
  private_pem: string
  created_at: number
  retired_at: number | null
}

export const toSigning = (r: SigningRow): SigningKeyRecord => ({
  kid: r.kid,
  privatePem: r.private_pem,
  createdAt: r.created_at,
  retiredAt: r.retired_at,
})

/** Every signing key, oldest first (the snapshot's). */
export const ALL_SIGNING_KEYS = 'SELECT * FROM signing_keys ORDER BY created_at, kid'
export const PRUNE_SIGNING_KEYS = 'DELETE FROM signing_keys WHERE retired_at IS NOT NULL AND retired_at < ?'

/** Signing keys in SQLite (signing-keys.ts states the contract); the file's mode keeps them private. */
export function sqliteSigningKeys(ctx: SqliteContext): SigningKeyStore {
  const { db } = ctx
  const stmt = {
    insert: db.prepare('INSERT INTO signing_keys (kid, private_pem, created_at) VALUES (?, ?, ?)'),
    retire: db.prepare('UPDATE signing_keys SET retired_at = ? WHERE kid = ? AND retired_at IS NULL'),
    active: db.prepare<[], { kid: string }>(
      'SELECT kid FROM signing_keys WHERE retired_at IS NULL ORDER BY created_at, kid',
    ),
  }
  return {
    async addSigningKey(r) {
      ctx.write(() => stmt.insert.run(r.kid, r.privatePem, r.createdAt))
    },

    async retireSigningKey(kid, atMs) {
      db.transaction(() => {
        if (stmt.retire.run(atMs, kid).changes > 0) ctx.bump()
      })()
    },

    async replaceSigningKey(r, trail) {
      return ctx.write(() => {
        const retired = stmt.active.all().map((k) => k.kid)
        for (const kid of retired) stmt.retire.run(r.createdAt, kid)
        stmt.insert.run(r.kid, r.privatePem, r.createdAt)
        const audit = trail?.audit && { ...trail.audit, details: { ...trail.audit.details, retired } }
        ctx.trail({ ...trail, audit }, () => retired)
        return retired
      })
    },
  }
}
