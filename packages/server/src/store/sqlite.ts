import Database from 'better-sqlite3'
import { mkdirSync, statSync } from 'node:fs'
import path from 'node:path'
import { assertPrivateFile, assertPrivateFolder, createPrivateFile, DataFileError, shellArg } from '../fs-safety.ts'
import { SqliteCounters } from './sqlite-counters.ts'
import { SqliteAudit } from './sqlite-audit.ts'
import type { AuditDraft, AuditFilter, AuditOnce, AuditPage } from './audit-types.ts'
import { mergeLedger } from './ledger-merge.ts'
import { toQuota, type QuotaRow } from './quota-row.ts'
import { SettlementBatch, type Settlements } from './settlement-batch.ts'
import type {
  ClaimedDelivery,
  OutboxEvent,
  WebhookAttempt,
  WebhookDelivery,
  WebhookRecord,
  ApiKeyChange,
  ConsoleSessionRecord,
  ApiKeyRecord,
  ApiKeyRotation,
  KeyChangeResult,
  NewApiKeyRecord,
  QuotaRecord,
  Reservation,
  Revocation,
  SigningKeyRecord,
  Store,
  StoreSnapshot,
  UsageDelta,
  UsageFilter,
  UsageRefund,
  UsageRefusal,
  UsageRow,
} from './types.ts'

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO meta (name, value) VALUES ('version', 1);
CREATE TABLE IF NOT EXISTS api_keys (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, hash TEXT NOT NULL UNIQUE, prefix TEXT NOT NULL,
  created_at INTEGER NOT NULL, last_used_at INTEGER, revoked_at INTEGER,
  scopes TEXT NOT NULL DEFAULT '["admin"]', policy TEXT, expires_at INTEGER, previous_hash TEXT, rotating_until INTEGER);
CREATE TABLE IF NOT EXISTS signing_keys (
  kid TEXT PRIMARY KEY, private_pem TEXT NOT NULL, created_at INTEGER NOT NULL, retired_at INTEGER);
CREATE TABLE IF NOT EXISTS revocations (
  id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL CHECK (kind IN ('jti', 'sub')),
  value TEXT NOT NULL, issued_before INTEGER, expires_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS token_usage (
  jti TEXT PRIMARY KEY, characters INTEGER NOT NULL CHECK (characters >= 0), expires_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS usage_ledger (
  day TEXT NOT NULL, key_id TEXT NOT NULL, sub TEXT NOT NULL, characters INTEGER NOT NULL, audio_ms_produced INTEGER NOT NULL,
  audio_ms_transcribed INTEGER NOT NULL, streams INTEGER NOT NULL, audio_ms_voice_changed INTEGER NOT NULL DEFAULT 0,
  characters_fallback INTEGER NOT NULL DEFAULT 0, characters_cached INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (day, key_id, sub));
CREATE TABLE IF NOT EXISTS usage_refusals (
  day TEXT NOT NULL, key_id TEXT NOT NULL, sub TEXT NOT NULL, reason TEXT NOT NULL, count INTEGER NOT NULL,
  PRIMARY KEY (day, key_id, sub, reason));
CREATE TABLE IF NOT EXISTS token_audio (
  jti TEXT PRIMARY KEY, ms INTEGER NOT NULL CHECK (ms >= 0), expires_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS quotas (
  id TEXT PRIMARY KEY, sub TEXT NOT NULL, key_id TEXT NOT NULL, period TEXT NOT NULL CHECK (period IN ('day', 'month')),
  characters INTEGER, audio_seconds INTEGER, created_at INTEGER NOT NULL, UNIQUE (sub, key_id, period));
CREATE TABLE IF NOT EXISTS webhooks (id TEXT PRIMARY KEY, url TEXT NOT NULL, events TEXT NOT NULL, secret TEXT NOT NULL,
  created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS webhook_events (id TEXT PRIMARY KEY, type TEXT NOT NULL, body TEXT NOT NULL,
  created_at INTEGER NOT NULL, dedupe_key TEXT UNIQUE);
CREATE INDEX IF NOT EXISTS webhook_events_created_at ON webhook_events (created_at);
CREATE TABLE IF NOT EXISTS webhook_deliveries (webhook_id TEXT NOT NULL, event_id TEXT NOT NULL,
  attempt INTEGER NOT NULL DEFAULT 0, status_code INTEGER, error TEXT, next_attempt_at INTEGER,
  leased_until INTEGER NOT NULL DEFAULT 0, delivered_at INTEGER, created_at INTEGER NOT NULL,
  PRIMARY KEY (webhook_id, event_id));
CREATE INDEX IF NOT EXISTS webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE next_attempt_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS webhook_deliveries_event ON webhook_deliveries (event_id);
CREATE TABLE IF NOT EXISTS console_login_codes (code_hash TEXT PRIMARY KEY, expires_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS console_sessions (
  id_hash TEXT PRIMARY KEY, key_id TEXT, scope TEXT NOT NULL CHECK (scope IN ('admin', 'read')),
  created_at INTEGER NOT NULL, last_seen_at INTEGER NOT NULL, expires_at INTEGER NOT NULL);
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
interface WebhookRow {
  id: string
  url: string
  events: string
  secret: string
  created_at: number
}
interface DeliveryRow {
  webhook_id: string
  event_id: string
  type: string
  attempt: number
  status_code: number | null
  error: string | null
  next_attempt_at: number | null
  delivered_at: number | null
  created_at: number
}
interface ClaimRow {
  webhook_id: string
  event_id: string
  type: string
  body: string
  url: string
  secret: string
  attempt: number
  event_created_at: number
}
const toWebhook = (r: WebhookRow): WebhookRecord => ({
  id: r.id,
  url: r.url,
  events: JSON.parse(r.events),
  secret: r.secret,
  createdAt: r.created_at,
})
const toDelivery = (r: DeliveryRow): WebhookDelivery => ({
  webhookId: r.webhook_id,
  eventId: r.event_id,
  type: r.type,
  attempt: r.attempt,
  statusCode: r.status_code,
  error: r.error,
  nextAttemptAt: r.next_attempt_at,
  deliveredAt: r.delivered_at,
  createdAt: r.created_at,
})
interface SigningRow {
  kid: string
  private_pem: string
  created_at: number
  retired_at: number | null
}
interface RevocationRow {
  kind: 'jti' | 'sub'
  value: string
  issued_before: number | null
  expires_at: number
}

interface LedgerRow {
  day: string
  key_id: string
  sub: string
  characters: number
  audio_ms_produced: number
  audio_ms_transcribed: number
  audio_ms_voice_changed: number
  characters_fallback: number
  characters_cached: number
  streams: number
}
const toUsage = (r: LedgerRow): UsageDelta => ({
  day: r.day,
  keyId: r.key_id,
  sub: r.sub === '' ? null : r.sub,
  characters: Number(r.characters),
  audioMsProduced: Number(r.audio_ms_produced),
  audioMsTranscribed: Number(r.audio_ms_transcribed),
  audioMsVoiceChanged: Number(r.audio_ms_voice_changed),
  charactersFallback: Number(r.characters_fallback),
  charactersCached: Number(r.characters_cached),
  streams: Number(r.streams),
})
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
const toSigning = (r: SigningRow): SigningKeyRecord => ({
  kid: r.kid,
  privatePem: r.private_pem,
  createdAt: r.created_at,
  retiredAt: r.retired_at,
})
const toRevocation = (r: RevocationRow): Revocation =>
  r.kind === 'jti'
    ? { kind: 'jti', jti: r.value, expiresAt: r.expires_at }
    : { kind: 'sub', sub: r.value, issuedBefore: r.issued_before ?? 0, expiresAt: r.expires_at }

/** SQLite's side files; on unix it creates them with the database file's own mode. */
const SIDE_FILES = ['-wal', '-shm', '-journal']

/**
 * The store holds the signing keys: its folder must not be writable by others, and its files must
 * be 0600 whatever the folder's mode or the umask. A new file is created 0600 before SQLite opens it
 * (so its side files follow); an existing one that is empty is refused, since opening it would
 * silently start a fresh key set and a new first API key.
 */
function preparePrivateStore(file: string): void {
  const dir = path.dirname(file)
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  assertPrivateFolder(dir)
  for (const f of [file, ...SIDE_FILES.map((s) => file + s)]) assertPrivateFile(f)
  if (createPrivateFile(file) || statSync(file).size > 0) return
  throw new DataFileError(
    'empty_store',
    file,
    `${file} is empty, and opening it would start a new key set; restore it from a backup or, to start afresh, run: rm ${shellArg(file)}`,
  )
}

/**
 * SQLite in WAL mode: the CLI and a running server share the file safely, and every write bumps
 * `meta.version` so the server's poller notices changes made by another process.
 */
export class SqliteStore implements Store {
  readonly #db: Database.Database
  readonly #stmt
  readonly #counters: SqliteCounters
  readonly #audit: SqliteAudit
  readonly #settlements = new SettlementBatch((batch) => this.#writeSettlements(batch))

  constructor(file: string) {
    preparePrivateStore(file)
    this.#db = new Database(file)
    this.#db.pragma('journal_mode = WAL')
    this.#db.pragma('busy_timeout = 5000')
    this.#db.pragma('synchronous = NORMAL')
    this.#db.exec(SCHEMA)
    // A store made before a column existed gets it (CREATE TABLE IF NOT EXISTS keeps old tables as they are).
    this.#addColumn('usage_ledger', 'audio_ms_voice_changed', 'INTEGER NOT NULL DEFAULT 0')
    this.#addColumn('usage_ledger', 'characters_fallback', 'INTEGER NOT NULL DEFAULT 0')
    this.#addColumn('usage_ledger', 'characters_cached', 'INTEGER NOT NULL DEFAULT 0')
    // Keys made before scopes existed keep full power.
    this.#addColumn('api_keys', 'scopes', `TEXT NOT NULL DEFAULT '["admin"]'`)
    this.#addColumn('api_keys', 'policy', 'TEXT')
    this.#addColumn('api_keys', 'expires_at', 'INTEGER')
    this.#addColumn('quotas', 'alert_at', 'TEXT')
    this.#addColumn('api_keys', 'previous_hash', 'TEXT')
    this.#addColumn('api_keys', 'rotating_until', 'INTEGER')
    this.#db.exec('CREATE UNIQUE INDEX IF NOT EXISTS api_keys_previous_hash ON api_keys (previous_hash)')
    this.#counters = new SqliteCounters(this.#db)
    this.#audit = new SqliteAudit(this.#db)
    const db = this.#db
    this.#stmt = {
      bump: db.prepare("UPDATE meta SET value = value + 1 WHERE name = 'version'"),
      version: db.prepare<[], { value: number }>("SELECT value FROM meta WHERE name = 'version'"),
      insertKey: db.prepare(
        'INSERT INTO api_keys (id, name, hash, prefix, created_at, scopes, policy, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      keyById: db.prepare<[string], KeyRow>('SELECT * FROM api_keys WHERE id = ?'),
      updateKey: db.prepare(
        'UPDATE api_keys SET name = ?, scopes = ?, expires_at = ? WHERE id = ? AND revoked_at IS NULL',
      ),
      otherAdmins: db.prepare<[string], { n: number }>(
        `SELECT count(*) AS n FROM api_keys, json_each(api_keys.scopes)
         WHERE api_keys.id <> ? AND api_keys.revoked_at IS NULL AND json_each.value = 'admin'`,
      ),
      keyByHash: db.prepare<[string, string], KeyRow>('SELECT * FROM api_keys WHERE hash = ? OR previous_hash = ?'),
      rotateKey: db.prepare(
        'UPDATE api_keys SET previous_hash = hash, rotating_until = ?, hash = ?, prefix = ? WHERE id = ? AND revoked_at IS NULL',
      ),
      activeSigning: db.prepare<[], { kid: string }>(
        'SELECT kid FROM signing_keys WHERE retired_at IS NULL ORDER BY created_at, kid',
      ),
      keys: db.prepare<[], KeyRow>('SELECT * FROM api_keys ORDER BY created_at, id'),
      revokeKey: db.prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL'),
      touchKey: db.prepare('UPDATE api_keys SET last_used_at = ? WHERE id = ?'),
      revokedKeyIds: db.prepare<[], { id: string }>('SELECT id FROM api_keys WHERE revoked_at IS NOT NULL'),
      insertSigning: db.prepare('INSERT INTO signing_keys (kid, private_pem, created_at) VALUES (?, ?, ?)'),
      retireSigning: db.prepare('UPDATE signing_keys SET retired_at = ? WHERE kid = ? AND retired_at IS NULL'),
      signing: db.prepare<[], SigningRow>('SELECT * FROM signing_keys ORDER BY created_at, kid'),
      pruneSigning: db.prepare('DELETE FROM signing_keys WHERE retired_at IS NOT NULL AND retired_at < ?'),
      pruneRevocations: db.prepare('DELETE FROM revocations WHERE expires_at < ?'),
      insertRevocation: db.prepare(
        'INSERT INTO revocations (kind, value, issued_before, expires_at) VALUES (?, ?, ?, ?)',
      ),
      revocations: db.prepare<[], RevocationRow>(
        'SELECT kind, value, issued_before, expires_at FROM revocations ORDER BY id',
      ),
      usage: db.prepare<[string], { characters: number }>('SELECT characters FROM token_usage WHERE jti = ?'),
      addUsage: db.prepare(
        'INSERT INTO token_usage (jti, characters, expires_at) VALUES (?, ?, ?) ON CONFLICT (jti) DO UPDATE SET characters = characters + excluded.characters',
      ),
      refundUsage: db.prepare('UPDATE token_usage SET characters = MAX(0, characters - ?) WHERE jti = ?'),
      pruneUsage: db.prepare('DELETE FROM token_usage WHERE expires_at < ?'),
      ledgerAdd:
        db.prepare(`INSERT INTO usage_ledger (day, key_id, sub, characters, audio_ms_produced, audio_ms_transcribed, streams, audio_ms_voice_changed,
        characters_fallback, characters_cached)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (day, key_id, sub) DO UPDATE SET characters = characters + excluded.characters,
        audio_ms_produced = audio_ms_produced + excluded.audio_ms_produced, audio_ms_transcribed = audio_ms_transcribed + excluded.audio_ms_transcribed,
        streams = streams + excluded.streams, audio_ms_voice_changed = audio_ms_voice_changed + excluded.audio_ms_voice_changed,
        characters_fallback = characters_fallback + excluded.characters_fallback, characters_cached = characters_cached + excluded.characters_cached`),
      ledger: db.prepare<
        [string, string, string | null, string | null, string | null, string | null],
        LedgerRow
      >(`SELECT * FROM usage_ledger
        WHERE day >= ? AND day <= ? AND (? IS NULL OR key_id = ?) AND (? IS NULL OR sub = ?) ORDER BY day, key_id, sub`),
      refusalAdd: db.prepare(
        'INSERT INTO usage_refusals (day, key_id, sub, reason, count) VALUES (?, ?, ?, ?, 1) ON CONFLICT (day, key_id, sub, reason) DO UPDATE SET count = count + 1',
      ),
      refusals: db.prepare<
        [string, string, string | null, string | null, string | null, string | null],
        { day: string; key_id: string; sub: string; reason: string; count: number }
      >(`SELECT * FROM usage_refusals
        WHERE day >= ? AND day <= ? AND (? IS NULL OR key_id = ?) AND (? IS NULL OR sub = ?)`),
      audio: db.prepare<[string], { ms: number }>('SELECT ms FROM token_audio WHERE jti = ?'),
      addAudio: db.prepare(
        'INSERT INTO token_audio (jti, ms, expires_at) VALUES (?, ?, ?) ON CONFLICT (jti) DO UPDATE SET ms = ms + excluded.ms',
      ),
      refundAudio: db.prepare('UPDATE token_audio SET ms = MAX(0, ms - ?) WHERE jti = ?'),
      pruneAudio: db.prepare('DELETE FROM token_audio WHERE expires_at < ?'),
      quotaFind: db.prepare<[string, string, string], QuotaRow>(
        'SELECT * FROM quotas WHERE sub = ? AND key_id = ? AND period = ?',
      ),
      quotaInsert: db.prepare(
        'INSERT INTO quotas (id, sub, key_id, period, characters, audio_seconds, created_at, alert_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      quotaUpdate: db.prepare('UPDATE quotas SET characters = ?, audio_seconds = ?, alert_at = ? WHERE id = ?'),
      quotas: db.prepare<[], QuotaRow>('SELECT * FROM quotas ORDER BY created_at, id'),
      quotaDelete: db.prepare('DELETE FROM quotas WHERE id = ?'),
      webhookInsert: db.prepare('INSERT INTO webhooks (id, url, events, secret, created_at) VALUES (?, ?, ?, ?, ?)'),
      webhooks: db.prepare<[], WebhookRow>('SELECT * FROM webhooks ORDER BY created_at, id'),
      webhookById: db.prepare<[string], WebhookRow>('SELECT * FROM webhooks WHERE id = ?'),
      webhookDelete: db.prepare('DELETE FROM webhooks WHERE id = ?'),
      webhookDeliveriesDelete: db.prepare('DELETE FROM webhook_deliveries WHERE webhook_id = ?'),
      webhookSecret: db.prepare('UPDATE webhooks SET secret = ? WHERE id = ?'),
      eventInsert: db.prepare(
        'INSERT INTO webhook_events (id, type, body, created_at, dedupe_key) VALUES (?, ?, ?, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING',
      ),
      deliveryInsert: db.prepare(
        'INSERT INTO webhook_deliveries (webhook_id, event_id, next_attempt_at, created_at) VALUES (?, ?, ?, ?)',
      ),
      deliveriesDue: db.prepare<[number, number, number], ClaimRow>(
        `SELECT d.webhook_id, d.event_id, e.type, e.body, w.url, w.secret, d.attempt, e.created_at AS event_created_at
         FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id JOIN webhooks w ON w.id = d.webhook_id
         WHERE d.next_attempt_at IS NOT NULL AND d.next_attempt_at <= ? AND d.leased_until <= ?
         ORDER BY d.next_attempt_at LIMIT ?`,
      ),
      deliveryLease: db.prepare('UPDATE webhook_deliveries SET leased_until = ? WHERE webhook_id = ? AND event_id = ?'),
      deliveryRecord: db.prepare(
        `UPDATE webhook_deliveries SET attempt = ?, status_code = ?, error = ?, next_attempt_at = ?, delivered_at = ?, leased_until = 0
         WHERE webhook_id = ? AND event_id = ?`,
      ),
      deliveries: db.prepare<[string, number], DeliveryRow>(
        `SELECT d.*, e.type FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
         WHERE d.webhook_id = ? ORDER BY d.created_at DESC, d.event_id DESC LIMIT ?`,
      ),
      eventsPruneDeliveries: db.prepare(
        'DELETE FROM webhook_deliveries WHERE event_id IN (SELECT id FROM webhook_events WHERE created_at < ?)',
      ),
      eventsPrune: db.prepare('DELETE FROM webhook_events WHERE created_at < ?'),
      codeInsert: db.prepare('INSERT INTO console_login_codes (code_hash, expires_at) VALUES (?, ?)'),
      codeTake: db.prepare<[string], { expires_at: number }>(
        'DELETE FROM console_login_codes WHERE code_hash = ? RETURNING expires_at',
      ),
      codePrune: db.prepare('DELETE FROM console_login_codes WHERE expires_at <= ?'),
      sessionInsert: db.prepare(
        'INSERT INTO console_sessions (id_hash, key_id, scope, created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      sessionGet: db.prepare<
        [string],
        {
          id_hash: string
          key_id: string | null
          scope: 'admin' | 'read'
          created_at: number
          last_seen_at: number
          expires_at: number
        }
      >('SELECT * FROM console_sessions WHERE id_hash = ?'),
      sessionTouch: db.prepare('UPDATE console_sessions SET last_seen_at = MAX(last_seen_at, ?) WHERE id_hash = ?'),
      sessionEnd: db.prepare('DELETE FROM console_sessions WHERE id_hash = ?'),
      sessionPrune: db.prepare('DELETE FROM console_sessions WHERE expires_at <= ? OR last_seen_at < ?'),
    }
  }

  #addColumn(table: string, column: string, definition: string): void {
    const columns = this.#db.prepare<[], { name: string }>(`PRAGMA table_info(${table})`).all()
    if (!columns.some((c) => c.name === column))
      this.#db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${definition}`)
  }

  #write<T>(fn: () => T): T {
    return this.#db.transaction(() => {
      const result = fn()
      this.#stmt.bump.run()
      return result
    })()
  }

  /** Appends the change's audit row, if it has one; call it inside the change's transaction. */
  #record(audit: AuditDraft | undefined): void {
    if (audit) this.#audit.append(audit)
  }

  async createApiKey(r: NewApiKeyRecord, audit?: AuditDraft): Promise<void> {
    const policy = r.policy === null ? null : JSON.stringify(r.policy)
    this.#write(() => {
      this.#stmt.insertKey.run(
        r.id,
        r.name,
        r.hash,
        r.prefix,
        r.createdAt,
        JSON.stringify(r.scopes),
        policy,
        r.expiresAt,
      )
      this.#record(audit)
    })
  }

  async findApiKeyByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    const row = this.#stmt.keyByHash.get(hash, hash)
    return row && toKey(row)
  }

  async listApiKeys(): Promise<ApiKeyRecord[]> {
    return this.#stmt.keys.all().map(toKey)
  }

  async revokeApiKey(id: string, atMs: number): Promise<boolean> {
    return this.#db.transaction(() => {
      const changed = this.#stmt.revokeKey.run(atMs, id).changes === 1
      if (changed) this.#stmt.bump.run()
      return changed
    })()
  }

  async getApiKey(id: string): Promise<ApiKeyRecord | undefined> {
    const row = this.#stmt.keyById.get(id)
    return row && toKey(row)
  }

  // IMMEDIATE: the write lock is taken before the admin count is read, so two processes cannot each
  // take away one of the last two admin keys.
  async updateApiKey(id: string, change: ApiKeyChange, audit?: AuditDraft): Promise<KeyChangeResult> {
    return this.#db
      .transaction((): KeyChangeResult => {
        const row = this.#stmt.keyById.get(id)
        if (!row || row.revoked_at !== null) return 'not_found'
        const key = toKey(row)
        const scopes = change.scopes ?? key.scopes
        if (key.scopes.includes('admin') && !scopes.includes('admin') && this.#stmt.otherAdmins.get(id)!.n === 0)
          return 'last_admin_key'
        const expiresAt = change.expiresAt === undefined ? key.expiresAt : change.expiresAt
        this.#stmt.updateKey.run(change.name ?? key.name, JSON.stringify(scopes), expiresAt, id)
        this.#stmt.bump.run()
        this.#record(audit)
        return 'changed'
      })
      .immediate()
  }

  async removeApiKey(id: string, atMs: number, audit?: AuditDraft): Promise<KeyChangeResult> {
    return this.#db
      .transaction((): KeyChangeResult => {
        const row = this.#stmt.keyById.get(id)
        if (!row || row.revoked_at !== null) return 'not_found'
        if (toKey(row).scopes.includes('admin') && this.#stmt.otherAdmins.get(id)!.n === 0) return 'last_admin_key'
        this.#stmt.revokeKey.run(atMs, id)
        this.#stmt.bump.run()
        this.#record(audit)
        return 'changed'
      })
      .immediate()
  }

  async rotateApiKey(r: ApiKeyRotation, audit?: AuditDraft): Promise<'changed' | 'not_found'> {
    return this.#db.transaction(() => {
      if (this.#stmt.rotateKey.run(r.previousUntil, r.hash, r.prefix, r.id).changes === 0) return 'not_found'
      this.#stmt.bump.run()
      this.#record(audit)
      return 'changed'
    })()
  }

  // Not a versioned change: last-used is informational and must not make every poller reload.
  async touchApiKey(id: string, atMs: number): Promise<void> {
    this.#stmt.touchKey.run(atMs, id)
  }

  async addSigningKey(r: SigningKeyRecord): Promise<void> {
    this.#write(() => this.#stmt.insertSigning.run(r.kid, r.privatePem, r.createdAt))
  }

  async retireSigningKey(kid: string, atMs: number): Promise<void> {
    this.#db.transaction(() => {
      if (this.#stmt.retireSigning.run(atMs, kid).changes > 0) this.#stmt.bump.run()
    })()
  }

  async replaceSigningKey(r: SigningKeyRecord, audit?: AuditDraft): Promise<string[]> {
    return this.#write(() => {
      const retired = this.#stmt.activeSigning.all().map((k) => k.kid)
      for (const kid of retired) this.#stmt.retireSigning.run(r.createdAt, kid)
      this.#stmt.insertSigning.run(r.kid, r.privatePem, r.createdAt)
      this.#record(audit && { ...audit, details: { ...audit.details, retired } })
      return retired
    })
  }

  async prune(beforeMs: number): Promise<void> {
    this.#db.transaction(() => {
      const removed = this.#stmt.pruneSigning.run(beforeMs).changes + this.#stmt.pruneRevocations.run(beforeMs).changes
      if (removed > 0) this.#stmt.bump.run()
      this.#stmt.pruneUsage.run(beforeMs)
      this.#stmt.pruneAudio.run(beforeMs)
      this.#counters.prune(beforeMs)
    })()
  }

  acquireSlot(...args: Parameters<SqliteCounters['acquireSlot']>): Promise<boolean> {
    return this.#counters.acquireSlot(...args)
  }

  renewSlots(...args: Parameters<SqliteCounters['renewSlots']>): Promise<void> {
    return this.#counters.renewSlots(...args)
  }

  releaseSlot(...args: Parameters<SqliteCounters['releaseSlot']>): Promise<void> {
    return this.#counters.releaseSlot(...args)
  }

  countSlots(...args: Parameters<SqliteCounters['countSlots']>): Promise<number> {
    return this.#counters.countSlots(...args)
  }

  takeRate(...args: Parameters<SqliteCounters['takeRate']>): Promise<number> {
    return this.#counters.takeRate(...args)
  }

  // IMMEDIATE takes the write lock before reading, so processes sharing the file cannot both read
  // the same usage and both grant the last characters of a budget.
  async reserveCharacters(
    jti: string,
    characters: number,
    budget: number | undefined,
    expiresAt: number,
  ): Promise<Reservation> {
    return this.#reserve(
      () => this.#stmt.usage.get(jti)?.characters ?? 0,
      () => this.#stmt.addUsage.run(jti, characters, expiresAt),
      characters,
      budget,
    )
  }

  async reserveAudio(jti: string, ms: number, budgetMs: number | undefined, expiresAt: number): Promise<Reservation> {
    return this.#reserve(
      () => this.#stmt.audio.get(jti)?.ms ?? 0,
      () => this.#stmt.addAudio.run(jti, ms, expiresAt),
      ms,
      budgetMs,
    )
  }

  /** Read, check and add in one IMMEDIATE transaction (the write lock is taken before the read). */
  #reserve(used: () => number, add: () => unknown, amount: number, budget: number | undefined): Reservation {
    return this.#db
      .transaction(() => {
        const before = used()
        if (budget !== undefined && before + amount > budget) return { granted: false, used: before }
        add()
        return { granted: true, used: before + amount }
      })
      .immediate()
  }

  settleUsage(d: UsageDelta, refund?: UsageRefund): Promise<void> {
    return this.#settlements.add(d, refund)
  }

  /** One transaction for every settlement of one event-loop turn (settlement-batch.ts). */
  #writeSettlements({ deltas, refunds }: Settlements): void {
    this.#db.transaction(() => {
      for (const d of deltas) {
        this.#stmt.ledgerAdd.run(
          d.day,
          d.keyId,
          d.sub ?? '',
          d.characters,
          Math.round(d.audioMsProduced),
          Math.round(d.audioMsTranscribed),
          d.streams,
          Math.round(d.audioMsVoiceChanged ?? 0),
          d.charactersFallback ?? 0,
          d.charactersCached ?? 0,
        )
      }
      for (const r of refunds) {
        if (r.characters > 0) this.#stmt.refundUsage.run(r.characters, r.key)
        if (r.audioMs > 0) this.#stmt.refundAudio.run(Math.floor(r.audioMs), r.key)
      }
    })()
  }

  async recordRefusal(r: UsageRefusal): Promise<void> {
    this.#stmt.refusalAdd.run(r.day, r.keyId, r.sub ?? '', r.reason)
  }

  async queryUsage(f: UsageFilter): Promise<UsageRow[]> {
    const key = f.keyId ?? null
    const sub = f.sub === undefined ? null : (f.sub ?? '')
    const refusals = this.#stmt.refusals.all(f.from, f.to, key, key, sub, sub).map((r) => ({
      day: r.day,
      keyId: r.key_id,
      sub: r.sub === '' ? null : r.sub,
      reason: r.reason,
      count: Number(r.count),
    }))
    return mergeLedger(this.#stmt.ledger.all(f.from, f.to, key, key, sub, sub).map(toUsage), refusals)
  }

  async refundAudio(jti: string, ms: number): Promise<void> {
    if (ms > 0) this.#stmt.refundAudio.run(ms, jti)
  }

  async usedAudio(jti: string): Promise<number> {
    return this.#stmt.audio.get(jti)?.ms ?? 0
  }

  async refundCharacters(jti: string, characters: number): Promise<void> {
    if (characters > 0) this.#stmt.refundUsage.run(characters, jti)
  }

  async usedCharacters(jti: string): Promise<number> {
    return this.#stmt.usage.get(jti)?.characters ?? 0
  }

  async putQuota(q: QuotaRecord, audit?: AuditDraft): Promise<{ quota: QuotaRecord; created: boolean }> {
    return this.#write(() => {
      const existing = this.#stmt.quotaFind.get(q.sub ?? '', q.keyId ?? '', q.period)
      const alertAt = q.alertAt ? JSON.stringify(q.alertAt) : null
      if (existing) this.#stmt.quotaUpdate.run(q.characters, q.audioSeconds, alertAt, existing.id)
      else
        this.#stmt.quotaInsert.run(
          q.id,
          q.sub ?? '',
          q.keyId ?? '',
          q.period,
          q.characters,
          q.audioSeconds,
          q.createdAt,
          alertAt,
        )
      const caps = { characters: q.characters, audioSeconds: q.audioSeconds, alertAt: q.alertAt ?? null }
      const quota = existing ? { ...toQuota(existing), ...caps } : { ...q, ...caps }
      if (audit)
        this.#record({
          ...audit,
          target: { type: 'quota', id: quota.id },
          details: { ...audit.details, created: !existing },
        })
      return { quota, created: !existing }
    })
  }

  async listQuotas(): Promise<QuotaRecord[]> {
    return this.#stmt.quotas.all().map(toQuota)
  }

  async deleteQuota(id: string, audit?: AuditDraft): Promise<boolean> {
    return this.#db.transaction(() => {
      const removed = this.#stmt.quotaDelete.run(id).changes === 1
      if (removed) {
        this.#stmt.bump.run()
        this.#record(audit)
      }
      return removed
    })()
  }

  async addRevocation(r: Revocation, audit?: AuditDraft): Promise<void> {
    this.#write(() => {
      if (r.kind === 'jti') this.#stmt.insertRevocation.run('jti', r.jti, null, r.expiresAt)
      else this.#stmt.insertRevocation.run('sub', r.sub, r.issuedBefore, r.expiresAt)
      this.#record(audit)
    })
  }

  async appendAudit(draft: AuditDraft, once?: AuditOnce): Promise<boolean> {
    if (once) return this.#audit.appendOnce(draft, once)
    this.#audit.append(draft)
    return true
  }

  async queryAudit(filter: AuditFilter): Promise<AuditPage> {
    return this.#audit.page(filter)
  }

  async pruneAudit(beforeMs: number): Promise<number> {
    return this.#audit.prune(beforeMs)
  }

  // Webhooks are not versioned changes: no instance caches them, each delivery reads its webhook.
  async createWebhook(w: WebhookRecord, audit?: AuditDraft): Promise<void> {
    this.#db.transaction(() => {
      this.#stmt.webhookInsert.run(w.id, w.url, JSON.stringify(w.events), w.secret, w.createdAt)
      this.#record(audit)
    })()
  }

  async listWebhooks(): Promise<WebhookRecord[]> {
    return this.#stmt.webhooks.all().map(toWebhook)
  }

  async getWebhook(id: string): Promise<WebhookRecord | undefined> {
    const row = this.#stmt.webhookById.get(id)
    return row && toWebhook(row)
  }

  async removeWebhook(id: string, audit?: AuditDraft): Promise<boolean> {
    return this.#db.transaction(() => {
      this.#stmt.webhookDeliveriesDelete.run(id)
      const removed = this.#stmt.webhookDelete.run(id).changes === 1
      // Nothing removed, nothing recorded.
      if (removed) this.#record(audit)
      return removed
    })()
  }

  async setWebhookSecret(id: string, secret: string): Promise<boolean> {
    return this.#stmt.webhookSecret.run(secret, id).changes === 1
  }

  // IMMEDIATE: the dedupe key is checked and the deliveries written under the write lock, so two
  // processes crossing the same threshold store one event.
  async enqueueWebhookEvent(e: OutboxEvent, onlyWebhookId?: string): Promise<boolean> {
    return this.#db
      .transaction(() => {
        if (this.#stmt.eventInsert.run(e.id, e.type, e.body, e.createdAt, e.dedupeKey).changes === 0) return false
        const targets = this.#stmt.webhooks
          .all()
          .filter((w) => (onlyWebhookId === undefined ? JSON.parse(w.events).includes(e.type) : w.id === onlyWebhookId))
        for (const w of targets) this.#stmt.deliveryInsert.run(w.id, e.id, e.createdAt, e.createdAt)
        return true
      })
      .immediate()
  }

  async claimWebhookDeliveries(nowMs: number, leaseMs: number, limit: number): Promise<ClaimedDelivery[]> {
    return this.#db
      .transaction(() => {
        const rows = this.#stmt.deliveriesDue.all(nowMs, nowMs, limit)
        for (const r of rows) this.#stmt.deliveryLease.run(nowMs + leaseMs, r.webhook_id, r.event_id)
        return rows.map((r) => ({
          webhookId: r.webhook_id,
          eventId: r.event_id,
          type: r.type,
          body: r.body,
          url: r.url,
          secret: r.secret,
          attempt: r.attempt,
          eventCreatedAt: r.event_created_at,
        }))
      })
      .immediate()
  }

  async recordWebhookAttempt(a: WebhookAttempt): Promise<void> {
    this.#stmt.deliveryRecord.run(
      a.attempt,
      a.statusCode,
      a.error,
      a.nextAttemptAt,
      a.deliveredAt,
      a.webhookId,
      a.eventId,
    )
  }

  async listWebhookDeliveries(webhookId: string, limit: number): Promise<WebhookDelivery[]> {
    return this.#stmt.deliveries.all(webhookId, limit).map(toDelivery)
  }

  async pruneWebhookEvents(beforeMs: number): Promise<void> {
    this.#db.transaction(() => {
      this.#stmt.eventsPruneDeliveries.run(beforeMs)
      this.#stmt.eventsPrune.run(beforeMs)
    })()
  }

  async addConsoleLoginCode(codeHash: string, expiresAt: number): Promise<void> {
    this.#stmt.codeInsert.run(codeHash, expiresAt)
  }

  async takeConsoleLoginCode(codeHash: string, nowMs: number): Promise<boolean> {
    // One DELETE: of two processes racing with one code, only one gets its row back.
    const row = this.#stmt.codeTake.get(codeHash)
    return row !== undefined && row.expires_at > nowMs
  }

  async createConsoleSession(r: ConsoleSessionRecord): Promise<void> {
    this.#stmt.sessionInsert.run(r.idHash, r.keyId, r.scope, r.createdAt, r.lastSeenAt, r.expiresAt)
  }

  async getConsoleSession(idHash: string): Promise<ConsoleSessionRecord | undefined> {
    const r = this.#stmt.sessionGet.get(idHash)
    return (
      r && {
        idHash: r.id_hash,
        keyId: r.key_id,
        scope: r.scope,
        createdAt: r.created_at,
        lastSeenAt: r.last_seen_at,
        expiresAt: r.expires_at,
      }
    )
  }

  async touchConsoleSession(idHash: string, atMs: number): Promise<void> {
    this.#stmt.sessionTouch.run(atMs, idHash)
  }

  async endConsoleSession(idHash: string): Promise<boolean> {
    return this.#stmt.sessionEnd.run(idHash).changes === 1
  }

  async pruneConsoleSessions(nowMs: number, idleBeforeMs: number): Promise<void> {
    this.#stmt.sessionPrune.run(nowMs, idleBeforeMs)
    this.#stmt.codePrune.run(nowMs)
  }

  async version(): Promise<number> {
    return this.versionNow()
  }

  versionNow(): number {
    return this.#stmt.version.get()?.value ?? 0
  }

  async snapshot(): Promise<StoreSnapshot> {
    return this.#db.transaction(() => ({
      version: this.#stmt.version.get()?.value ?? 0,
      revokedKeyIds: this.#stmt.revokedKeyIds.all().map((r) => r.id),
      signingKeys: this.#stmt.signing.all().map(toSigning),
      revocations: this.#stmt.revocations.all().map(toRevocation),
    }))()
  }

  async close(): Promise<void> {
    this.#settlements.flush()
    this.#db.close()
  }
}
