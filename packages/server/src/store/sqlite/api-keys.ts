import type { ApiKeyRecord, ApiKeyStore, KeyChangeResult } from '../api-keys.ts'
import type { SqliteContext } from './context.ts'

export const API_KEYS_SCHEMA = `
CREATE TABLE IF NOT EXISTS api_keys (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, hash TEXT NOT NULL UNIQUE, prefix TEXT NOT NULL,
  created_at INTEGER NOT NULL, last_used_at INTEGER, revoked_at INTEGER,
  scopes TEXT NOT NULL DEFAULT '["admin"]', policy TEXT, expires_at INTEGER, previous_hash TEXT, rotating_until INTEGER);
`

interface KeyRow {
  id: string
  name: string
  hash: string
  prefix: string
  created_at: number
  last_used_at: number | null
  revoked_at: number | null
  scopes: string
  policy: string | null
  expires_at: number | null
  previous_hash: string | null
  rotating_until: number | null
}

const toKey = (r: KeyRow): ApiKeyRecord => ({
  id: r.id,
  name: r.name,
  scopes: JSON.parse(r.scopes),
  policy: r.policy === null ? null : JSON.parse(r.policy),
  expiresAt: r.expires_at,
  hash: r.hash,
  previousHash: r.previous_hash,
  rotatingUntil: r.rotating_until,
  prefix: r.prefix,
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
  revokedAt: r.revoked_at,
})

/** API keys in SQLite (api-keys.ts states the contract). */
export function sqliteApiKeys(ctx: SqliteContext): ApiKeyStore {
  const { db } = ctx
  const stmt = {
    insert: db.prepare(
      'INSERT INTO api_keys (id, name, hash, prefix, created_at, scopes, policy, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    byId: db.prepare<[string], KeyRow>('SELECT * FROM api_keys WHERE id = ?'),
    update: db.prepare('UPDATE api_keys SET name = ?, scopes = ?, expires_at = ? WHERE id = ? AND revoked_at IS NULL'),
    otherAdmins: db.prepare<[string], { n: number }>(
      `SELECT count(*) AS n FROM api_keys, json_each(api_keys.scopes)
       WHERE api_keys.id <> ? AND api_keys.revoked_at IS NULL AND json_each.value = 'admin'`,
    ),
    byHash: db.prepare<[string, string], KeyRow>('SELECT * FROM api_keys WHERE hash = ? OR previous_hash = ?'),
    rotate: db.prepare(
      'UPDATE api_keys SET previous_hash = hash, rotating_until = ?, hash = ?, prefix = ? WHERE id = ? AND revoked_at IS NULL',
    ),
    all: db.prepare<[], KeyRow>('SELECT * FROM api_keys ORDER BY created_at, id'),
    revoke: db.prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL'),
    touch: db.prepare('UPDATE api_keys SET last_used_at = ? WHERE id = ?'),
  }
  /** The key as the change left it, for the change's event (read inside its transaction). */
  const current = (id: string) => () => toKey(stmt.byId.get(id)!)
  const isLastAdmin = (key: ApiKeyRecord) => key.scopes.includes('admin') && stmt.otherAdmins.get(key.id)!.n === 0

  return {
    async createApiKey(r, trail) {
      const policy = r.policy === null ? null : JSON.stringify(r.policy)
      ctx.write(() => {
        stmt.insert.run(r.id, r.name, r.hash, r.prefix, r.createdAt, JSON.stringify(r.scopes), policy, r.expiresAt)
        ctx.trail(trail, current(r.id))
      })
    },

    async findApiKeyByHash(hash) {
      const row = stmt.byHash.get(hash, hash)
      return row && toKey(row)
    },

    async listApiKeys() {
      return stmt.all.all().map(toKey)
    },

    async getApiKey(id) {
      const row = stmt.byId.get(id)
      return row && toKey(row)
    },

    async revokeApiKey(id, atMs) {
      return db.transaction(() => {
        const changed = stmt.revoke.run(atMs, id).changes === 1
        if (changed) ctx.bump()
        return changed
      })()
    },

    // Not a versioned change: last-used is informational and must not make every poller reload.
    async touchApiKey(id, atMs) {
      stmt.touch.run(atMs, id)
    },

    // IMMEDIATE: the write lock is taken before the admin count is read, so two processes cannot each
    // take away one of the last two admin keys.
    async updateApiKey(id, change, trail) {
      return db
        .transaction((): KeyChangeResult => {
          const row = stmt.byId.get(id)
          if (!row || row.revoked_at !== null) return 'not_found'
          const key = toKey(row)
          const scopes = change.scopes ?? key.scopes
          if (!scopes.includes('admin') && isLastAdmin(key)) return 'last_admin_key'
          const expiresAt = change.expiresAt === undefined ? key.expiresAt : change.expiresAt
          stmt.update.run(change.name ?? key.name, JSON.stringify(scopes), expiresAt, id)
          ctx.bump()
          ctx.trail(trail, current(id))
          return 'changed'
        })
        .immediate()
    },

    async removeApiKey(id, atMs, trail) {
      return db
        .transaction((): KeyChangeResult => {
          const row = stmt.byId.get(id)
          if (!row || row.revoked_at !== null) return 'not_found'
          if (isLastAdmin(toKey(row))) return 'last_admin_key'
          stmt.revoke.run(atMs, id)
          ctx.bump()
          ctx.trail(trail, current(id))
          return 'changed'
        })
        .immediate()
    },

    async rotateApiKey(r, trail) {
      return db.transaction(() => {
        if (stmt.rotate.run(r.previousUntil, r.hash, r.prefix, r.id).changes === 0) return 'not_found'
        ctx.bump()
        ctx.trail(trail, current(r.id))
        return 'changed'
      })()
    },
  }
}
