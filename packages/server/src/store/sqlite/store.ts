import Database from 'better-sqlite3'
import type { Store } from '../types.ts'
import { API_KEYS_SCHEMA, sqliteApiKeys } from './api-keys.ts'
import { AUDIT_SCHEMA, SqliteAudit, sqliteAuditStore } from './audit.ts'
import { CONSOLE_SCHEMA, sqliteConsoleSessions } from './console-sessions.ts'
import { sqliteContext } from './context.ts'
import { COUNTERS_SCHEMA, PRUNE_COUNTERS, sqliteCounters } from './counters.ts'
import { preparePrivateStore } from './files.ts'
import { OUTBOX_SCHEMA, SqliteOutbox } from './outbox.ts'
import { QUOTAS_SCHEMA, sqliteQuotas } from './quotas.ts'
import {
  ALL_REVOCATIONS,
  PRUNE_REVOCATIONS,
  REVOCATIONS_SCHEMA,
  type RevocationRow,
  sqliteRevocations,
  toRevocation,
} from './revocations.ts'
import {
  ALL_SIGNING_KEYS,
  PRUNE_SIGNING_KEYS,
  SIGNING_KEYS_SCHEMA,
  type SigningRow,
  sqliteSigningKeys,
  toSigning,
} from './signing-keys.ts'
import { PRUNE_USAGE, sqliteUsage, USAGE_SCHEMA } from './usage.ts'
import { sqliteWebhooks, WEBHOOKS_SCHEMA } from './webhooks.ts'

const META_SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO meta (name, value) VALUES ('version', 1);
`
const SCHEMAS = [
  META_SCHEMA,
  API_KEYS_SCHEMA,
  SIGNING_KEYS_SCHEMA,
  REVOCATIONS_SCHEMA,
  USAGE_SCHEMA,
  QUOTAS_SCHEMA,
  WEBHOOKS_SCHEMA,
  OUTBOX_SCHEMA,
  CONSOLE_SCHEMA,
  COUNTERS_SCHEMA,
  AUDIT_SCHEMA,
]

/** Columns added since the first release: a store made before one existed gets it on open. */
const ADDED_COLUMNS: [table: string, column: string, definition: string][] = [
  ['usage_ledger', 'audio_ms_voice_changed', 'INTEGER NOT NULL DEFAULT 0'],
  ['usage_ledger', 'characters_fallback', 'INTEGER NOT NULL DEFAULT 0'],
  ['usage_ledger', 'characters_cached', 'INTEGER NOT NULL DEFAULT 0'],
  // Keys made before scopes existed keep full power.
  ['api_keys', 'scopes', `TEXT NOT NULL DEFAULT '["admin"]'`],
  ['api_keys', 'policy', 'TEXT'],
  ['api_keys', 'expires_at', 'INTEGER'],
  ['quotas', 'alert_at', 'TEXT'],
  ['api_keys', 'previous_hash', 'TEXT'],
  ['api_keys', 'rotating_until', 'INTEGER'],
]

/** Creates missing tables (CREATE TABLE IF NOT EXISTS keeps old tables as they are), then adds missing columns. */
function migrate(db: Database.Database): void {
  for (const schema of SCHEMAS) db.exec(schema)
  for (const [table, column, definition] of ADDED_COLUMNS) {
    const columns = db.prepare<[], { name: string }>(`PRAGMA table_info(${table})`).all()
    if (!columns.some((c) => c.name === column)) db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${definition}`)
  }
  db.exec('CREATE UNIQUE INDEX IF NOT EXISTS api_keys_previous_hash ON api_keys (previous_hash)')
}

/**
 * SQLite in WAL mode: the CLI and a running server share the file safely, and every versioned change
 * bumps `meta.version` so the server's poller notices changes made by another process. The store is
 * its concerns (one file each), composed over one connection and one context (context.ts).
 */
export function openSqliteStore(file: string): Store {
  preparePrivateStore(file)
  const db = new Database(file)
  db.pragma('journal_mode = WAL')
  db.pragma('busy_timeout = 5000')
  db.pragma('synchronous = NORMAL')
  migrate(db)
  const log = new SqliteAudit(db)
  const outbox = new SqliteOutbox(db)
  const ctx = sqliteContext(db, log, outbox)
  const { flush, ...usage } = sqliteUsage(ctx)
  const stmt = {
    // The value alone (`pluck`): no row object to build, on every API key's check (versionNow).
    version: db.prepare<[], number>("SELECT value FROM meta WHERE name = 'version'").pluck(),
    revokedKeyIds: db.prepare<[], { id: string }>('SELECT id FROM api_keys WHERE revoked_at IS NOT NULL'),
    signing: db.prepare<[], SigningRow>(ALL_SIGNING_KEYS),
    revocations: db.prepare<[], RevocationRow>(ALL_REVOCATIONS),
    pruneVersioned: [PRUNE_SIGNING_KEYS, PRUNE_REVOCATIONS].map((sql) => db.prepare(sql)),
    pruneOthers: [...PRUNE_USAGE, ...PRUNE_COUNTERS].map((sql) => db.prepare(sql)),
  }
  return {
    ...sqliteApiKeys(ctx),
    ...sqliteSigningKeys(ctx),
    ...sqliteRevocations(ctx),
    ...usage,
    ...sqliteQuotas(ctx),
    ...sqliteCounters(db),
    ...sqliteAuditStore(log),
    ...sqliteWebhooks(ctx, outbox),
    ...sqliteConsoleSessions(ctx),

    async version() {
      return stmt.version.get() ?? 0
    },

    versionNow() {
      return stmt.version.get() ?? 0
    },

    async snapshot() {
      return db.transaction(() => ({
        version: stmt.version.get() ?? 0,
        revokedKeyIds: stmt.revokedKeyIds.all().map((r) => r.id),
        signingKeys: stmt.signing.all().map(toSigning),
        revocations: stmt.revocations.all().map(toRevocation),
      }))()
    },

    async prune(beforeMs) {
      db.transaction(() => {
        const removed = stmt.pruneVersioned.reduce((n, s) => n + s.run(beforeMs).changes, 0)
        if (removed > 0) ctx.bump()
        for (const s of stmt.pruneOthers) s.run(beforeMs)
      })()
    },

    async close() {
      flush()
      db.close()
    },
  }
}
