import type { KeyPolicy, Scope } from '../../scopes.ts'
import type { ApiKeyRecord, ApiKeyStore, KeyChangeResult, KeyTrail } from '../api-keys.ts'
import type { PgQuery } from './connection.ts'
import { versioned, versionedRows, writeTrail, type PgContext } from './context.ts'

interface KeyRow {
  id: string
  name: string
  hash: string
  prefix: string
  created_at: string
  last_used_at: string | null
  revoked_at: string | null
  scopes: Scope[]
  policy: KeyPolicy | null
  expires_at: string | null
  previous_hash: string | null
  rotating_until: string | null
}

const num = (v: string | null): number | null => (v === null ? null : Number(v))

const toKey = (r: KeyRow): ApiKeyRecord => ({
  id: r.id,
  name: r.name,
  scopes: r.scopes,
  policy: r.policy,
  expiresAt: num(r.expires_at),
  hash: r.hash,
  previousHash: r.previous_hash,
  rotatingUntil: num(r.rotating_until),
  prefix: r.prefix,
  createdAt: Number(r.created_at),
  lastUsedAt: num(r.last_used_at),
  revokedAt: num(r.revoked_at),
})

/**
 * The guard of a key change: the key keeps `admin` (its scopes become `after`), was not admin, or
 * another live admin key exists. The other admin rows are locked, so two changes that would each take
 * away one of the last two admin keys queue instead of both passing.
 */
const STAYS_ADMIN = (after: string) => `${after} ? 'admin' OR NOT scopes ? 'admin'
  OR EXISTS (SELECT 1 FROM api_keys o WHERE o.id <> api_keys.id AND o.revoked_at IS NULL AND o.scopes ? 'admin' FOR UPDATE)`

const byId = async (query: PgQuery, id: string) =>
  (await query<KeyRow>('SELECT * FROM api_keys WHERE id = $1', [id])).rows[0]

/**
 * API keys in PostgreSQL (api-keys.ts states the contract). Each change is one statement that also
 * moves the version; with a trail, it runs in a transaction with its audit row and its event.
 */
export function pgApiKeys(ctx: PgContext): ApiKeyStore {
  /**
   * A versioned change (a statement ending in `RETURNING *`); with a trail, in a transaction that
   * writes it when the change changed the key, its event made from the key as the change left it.
   */
  async function change(sql: string, params: unknown[], trail?: KeyTrail): Promise<number> {
    if (!trail?.audit && !trail?.event) return (await ctx.query<{ n: number }>(versioned(sql), params)).rows[0]!.n
    return ctx.transaction(async (q) => {
      const [row] = (await q<KeyRow>(versionedRows(sql), params)).rows
      if (row) await writeTrail(q, trail, toKey(row))
      return row ? 1 : 0
    })
  }

  /** Runs a guarded change of key `id`; when it changed nothing, tells a missing key from the last admin one. */
  async function guarded(id: string, sql: string, params: unknown[], trail?: KeyTrail): Promise<KeyChangeResult> {
    if ((await change(sql, params, trail)) === 1) return 'changed'
    const row = await byId(ctx.query, id)
    return !row || row.revoked_at !== null ? 'not_found' : 'last_admin_key'
  }

  return {
    async createApiKey(r, trail) {
      await change(
        `INSERT INTO api_keys (id, name, hash, prefix, created_at, scopes, policy, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *`,
        [
          r.id,
          r.name,
          r.hash,
          r.prefix,
          r.createdAt,
          JSON.stringify(r.scopes),
          r.policy && JSON.stringify(r.policy),
          r.expiresAt,
        ],
        trail,
      )
    },

    async findApiKeyByHash(hash) {
      const row = (await ctx.query<KeyRow>('SELECT * FROM api_keys WHERE hash = $1 OR previous_hash = $1', [hash]))
        .rows[0]
      return row && toKey(row)
    },

    async listApiKeys() {
      return (await ctx.query<KeyRow>('SELECT * FROM api_keys ORDER BY created_at, id')).rows.map(toKey)
    },

    async getApiKey(id) {
      const row = await byId(ctx.query, id)
      return row && toKey(row)
    },

    async revokeApiKey(id, atMs) {
      const sql = 'UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL RETURNING *'
      return (await change(sql, [atMs, id])) === 1
    },

    // Not a versioned change: last-used is informational and must not make every poller reload.
    async touchApiKey(id, atMs) {
      await ctx.query('UPDATE api_keys SET last_used_at = $1 WHERE id = $2', [atMs, id])
    },

    async updateApiKey(id, c, trail) {
      return guarded(
        id,
        `UPDATE api_keys SET name = coalesce($2, name), scopes = coalesce($3::jsonb, scopes),
           expires_at = CASE WHEN $4::boolean THEN expires_at ELSE $5::bigint END
         WHERE id = $1 AND revoked_at IS NULL AND (${STAYS_ADMIN('coalesce($3::jsonb, scopes)')}) RETURNING *`,
        [
          id,
          c.name ?? null,
          c.scopes ? JSON.stringify(c.scopes) : null,
          c.expiresAt === undefined,
          c.expiresAt ?? null,
        ],
        trail,
      )
    },

    async removeApiKey(id, atMs, trail) {
      return guarded(
        id,
        `UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL AND (${STAYS_ADMIN("'[]'::jsonb")}) RETURNING *`,
        [id, atMs],
        trail,
      )
    },

    async rotateApiKey(r, trail) {
      const n = await change(
        `UPDATE api_keys SET previous_hash = hash, rotating_until = $2, hash = $3, prefix = $4
         WHERE id = $1 AND revoked_at IS NULL RETURNING *`,
        [r.id, r.previousUntil, r.hash, r.prefix],
        trail,
      )
      return n === 1 ? 'changed' : 'not_found'
    },
  }
}
