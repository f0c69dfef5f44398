import type pg from 'pg'
import { StoreError } from './errors.ts'
import { seal, unseal } from './key-sealing.ts'
import { migrate } from './pg-migrations.ts'
import { appendAudit, appendAuditOnce, pruneAudit, queryAudit, type PgQuery } from './postgres-audit.ts'
import type { AuditDraft, AuditFilter, AuditOnce, AuditPage } from './audit-types.ts'
import { createPool, pgFailure, type PgTarget } from './pg-pool.ts'
import type { KeyPolicy, Scope } from '../scopes.ts'
import type {
  ClaimedDelivery,
  OutboxEvent,
  WebhookAttempt,
  WebhookDelivery,
  WebhookRecord,
  ApiKeyChange,
  ApiKeyRecord,
  ApiKeyRotation,
  KeyChangeResult,
  NewApiKeyRecord,
  QuotaRecord,
  Reservation,
  Revocation,
  SigningKeyRecord,
  Store,
  ConsoleSessionRecord,
  StoreSnapshot,
  UsageDelta,
  UsageFilter,
  UsageRefund,
  UsageRefusal,
  UsageRow,
} from './types.ts'
import { mergeLedger } from './ledger-merge.ts'
import { toQuota, type QuotaRow } from './quota-row.ts'

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
interface SigningJson {
  kid: string
  sealed: string
  created_at: number
  retired_at: number | null
}
interface RevocationJson {
  kind: 'jti' | 'sub'
  value: string
  issued_before: number | null
  expires_at: number
}
interface SnapshotRow {
  version: string
  revoked: string[]
  signing: SigningJson[]
  revocations: RevocationJson[]
}

interface ConsoleSessionRow {
  id_hash: string
  key_id: string | null
  scope: 'admin' | 'read'
  created_at: string
  last_seen_at: string
  expires_at: string
}
const toConsoleSession = (r: ConsoleSessionRow): ConsoleSessionRecord => ({
  idHash: r.id_hash,
  keyId: r.key_id,
  scope: r.scope,
  createdAt: Number(r.created_at),
  lastSeenAt: Number(r.last_seen_at),
  expiresAt: Number(r.expires_at),
})

const num = (v: string | null): number | null => (v === null ? null : Number(v))

interface WebhookRow {
  id: string
  url: string
  events: string[]
  secret_sealed: string
  created_at: string
}
interface DeliveryRow {
  webhook_id: string
  event_id: string
  type: string
  attempt: number
  status_code: number | null
  error: string | null
  next_attempt_at: string | null
  delivered_at: string | null
  created_at: string
}
/** Webhook secrets are sealed as signing keys are, bound to their webhook's id. */
const webhookAad = (id: string) => `webhook:${id}`

/**
 * The outbox write, one statement: the event unless its dedupe key is taken (the unique index makes a
 * concurrent insert of the same key wait, then do nothing), and a delivery per subscribed webhook
 * (or the one webhook $6) for the event only if it was stored.
 */
const ENQUEUE = `WITH ev AS (
    INSERT INTO webhook_events (id, type, body, created_at, dedupe_key) VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT (dedupe_key) DO NOTHING RETURNING id),
  d AS (INSERT INTO webhook_deliveries (webhook_id, event_id, next_attempt_at, created_at)
    SELECT w.id, ev.id, $4, $4 FROM webhooks w CROSS JOIN ev
    WHERE CASE WHEN $6::text IS NULL THEN w.events ? $2 ELSE w.id = $6 END RETURNING 1)
  SELECT (SELECT count(*) FROM ev)::int AS n`

/**
 * Claims due deliveries for one attempt: SKIP LOCKED lets instances claiming at once take disjoint
 * rows, and the lease keeps them off every other instance's list until it ends or the attempt is recorded.
 */
const CLAIM = `UPDATE webhook_deliveries d SET leased_until = $1 + $2
  FROM webhook_events e, webhooks w
  WHERE e.id = d.event_id AND w.id = d.webhook_id AND (d.webhook_id, d.event_id) IN (
    SELECT webhook_id, event_id FROM webhook_deliveries
    WHERE next_attempt_at IS NOT NULL AND next_attempt_at <= $1 AND leased_until <= $1
    ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED)
  RETURNING d.webhook_id, d.event_id, e.type, e.body, w.url, w.secret_sealed, d.attempt, e.created_at AS event_created_at`
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
const toRevocation = (r: RevocationJson): Revocation =>
  r.kind === 'jti'
    ? { kind: 'jti', jti: r.value, expiresAt: r.expires_at }
    : { kind: 'sub', sub: r.value, issuedBefore: r.issued_before ?? 0, expiresAt: r.expires_at }

/** `change` is one data-modifying statement ending in `RETURNING 1`; the version moves only when it changed a row. */
const versioned = (change: string) => `WITH change AS (${change}),
  bump AS (UPDATE meta SET value = value + 1 WHERE name = 'version' AND EXISTS (SELECT 1 FROM change))
  SELECT count(*)::int AS n FROM change`

/**
 * The guard of a key change: the key keeps `admin` (its scopes become `after`), was not admin, or
 * another live admin key exists. The other admin rows are locked, so two changes that would each take
 * away one of the last two admin keys queue instead of both passing.
 */
const STAYS_ADMIN = (after: string) => `${after} ? 'admin' OR NOT scopes ? 'admin'
  OR EXISTS (SELECT 1 FROM api_keys o WHERE o.id <> api_keys.id AND o.revoked_at IS NULL AND o.scopes ? 'admin' FOR UPDATE)`

/** One statement, so one MVCC snapshot: a consistent view without holding a connection in a transaction. */
const SNAPSHOT = `SELECT
  (SELECT value FROM meta WHERE name = 'version') AS version,
  (SELECT coalesce(json_agg(id ORDER BY created_at, id), '[]') FROM api_keys WHERE revoked_at IS NOT NULL) AS revoked,
  (SELECT coalesce(json_agg(json_build_object('kid', kid, 'sealed', private_key_sealed, 'created_at', created_at, 'retired_at', retired_at)
     ORDER BY created_at, kid), '[]') FROM signing_keys) AS signing,
  (SELECT coalesce(json_agg(json_build_object('kind', kind, 'value', value, 'issued_before', issued_before, 'expires_at', expires_at)
     ORDER BY id), '[]') FROM revocations) AS revocations`

/**
 * Adds $2 to a token's usage row unless the total would pass the budget $3 (NULL: none), in one
 * statement: the row lock of ON CONFLICT makes concurrent instances queue, never both pass.
 */
const reserveIn = (table: string, column: string): string => `INSERT INTO ${table} AS u (jti, ${column}, expires_at)
  SELECT $1::text, $2::bigint, $4::bigint WHERE $3::bigint IS NULL OR $2::bigint <= $3::bigint
  ON CONFLICT (jti) DO UPDATE SET ${column} = u.${column} + EXCLUDED.${column}
    WHERE $3::bigint IS NULL OR u.${column} + EXCLUDED.${column} <= $3::bigint
  RETURNING ${column}`
const RESERVE = reserveIn('token_usage', 'characters')
const RESERVE_AUDIO = reserveIn('token_audio', 'ms')

/**
 * The store in PostgreSQL, for several instances behind a load balancer. Every versioned change is a
 * single statement that also bumps `meta.version` (so it is atomic without a held transaction);
 * signing keys are sealed with the key-encryption key before they reach the database.
 */
export class PostgresStore implements Store {
  readonly #target: PgTarget
  readonly #kek: Buffer

  private constructor(target: PgTarget, kek: Buffer) {
    this.#target = target
    this.#kek = kek
  }

  /** Connects, applies pending migrations and checks the KEK; a clear, password-free error otherwise. */
  static async open(url: URL, kek: Buffer): Promise<PostgresStore> {
    const target = createPool(url)
    try {
      const client = await target.pool.connect().catch((err: unknown) => {
        throw new StoreError('store_unreachable', `cannot reach PostgreSQL at ${target.display}: ${pgFailure(err)}`)
      })
      try {
        await migrate(client, target.schema)
      } finally {
        client.release()
      }
      const store = new PostgresStore(target, kek)
      await store.#checkKek()
      return store
    } catch (err) {
      await target.pool.end().catch(() => undefined)
      if (err instanceof StoreError) throw err
      throw new StoreError('store_unreachable', `cannot open the store at ${target.display}: ${pgFailure(err)}`)
    }
  }

  /** The first start seals a check value; later starts must open it, so a wrong KEK fails at once, not at the first token. */
  async #checkKek(): Promise<void> {
    await this.#query('INSERT INTO key_encryption (id, check_value) VALUES (1, $1) ON CONFLICT (id) DO NOTHING', [
      seal(this.#kek, 'kek-check', 'voxgate'),
    ])
    const { rows } = await this.#query<{ check_value: string }>('SELECT check_value FROM key_encryption WHERE id = 1')
    unseal(this.#kek, 'kek-check', rows[0]!.check_value)
  }

  #query: PgQuery = (sql, params = []) => runOn(this.#target.pool, sql, params)

  /**
   * Runs `work` in one transaction on one connection: it commits when `work` resolves and rolls back
   * when it throws, so a change and its audit row land together or not at all.
   */
  async #transaction<T>(work: (query: PgQuery) => Promise<T>): Promise<T> {
    const client = await this.#target.pool.connect().catch((err: unknown) => {
      throw new StoreError('store_unavailable', `PostgreSQL: ${pgFailure(err)}`)
    })
    const query: PgQuery = (sql, params = []) => runOn(client, sql, params)
    let broken = false
    try {
      await query('BEGIN')
      const result = await work(query)
      await query('COMMIT')
      return result
    } catch (err) {
      // A connection that cannot even roll back is dropped, not handed to the next caller.
      await client.query('ROLLBACK').catch(() => (broken = true))
      throw err
    } finally {
      client.release(broken)
    }
  }

  /** A versioned change; with an audit draft, in a transaction that appends the row when the change changed something. */
  async #versioned(change: string, params: unknown[], audit?: AuditDraft): Promise<number> {
    const run = async (query: PgQuery) => (await query<{ n: number }>(versioned(change), params)).rows[0]!.n
    if (!audit) return run(this.#query)
    return this.#transaction(async (query) => {
      const n = await run(query)
      if (n > 0) await appendAudit(query, audit)
      return n
    })
  }

  async createApiKey(r: NewApiKeyRecord, audit?: AuditDraft): Promise<void> {
    await this.#versioned(
      `INSERT INTO api_keys (id, name, hash, prefix, created_at, scopes, policy, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING 1`,
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
      audit,
    )
  }

  async findApiKeyByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    const row = (await this.#query<KeyRow>('SELECT * FROM api_keys WHERE hash = $1 OR previous_hash = $1', [hash]))
      .rows[0]
    return row && toKey(row)
  }

  async listApiKeys(): Promise<ApiKeyRecord[]> {
    return (await this.#query<KeyRow>('SELECT * FROM api_keys ORDER BY created_at, id')).rows.map(toKey)
  }

  async revokeApiKey(id: string, atMs: number): Promise<boolean> {
    return (
      (await this.#versioned('UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL RETURNING 1', [
        atMs,
        id,
      ])) === 1
    )
  }

  async getApiKey(id: string): Promise<ApiKeyRecord | undefined> {
    const row = (await this.#query<KeyRow>('SELECT * FROM api_keys WHERE id = $1', [id])).rows[0]
    return row && toKey(row)
  }

  async updateApiKey(id: string, change: ApiKeyChange, audit?: AuditDraft): Promise<KeyChangeResult> {
    const keepExpiry = change.expiresAt === undefined
    return this.#keyChange(
      `UPDATE api_keys SET name = coalesce($2, name), scopes = coalesce($3::jsonb, scopes),
         expires_at = CASE WHEN $4::boolean THEN expires_at ELSE $5::bigint END
       WHERE id = $1 AND revoked_at IS NULL AND (${STAYS_ADMIN('coalesce($3::jsonb, scopes)')}) RETURNING 1`,
      [
        id,
        change.name ?? null,
        change.scopes ? JSON.stringify(change.scopes) : null,
        keepExpiry,
        change.expiresAt ?? null,
      ],
      audit,
    )
  }

  async removeApiKey(id: string, atMs: number, audit?: AuditDraft): Promise<KeyChangeResult> {
    return this.#keyChange(
      `UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL AND (${STAYS_ADMIN("'[]'::jsonb")}) RETURNING 1`,
      [id, atMs],
      audit,
    )
  }

  async rotateApiKey(r: ApiKeyRotation, audit?: AuditDraft): Promise<'changed' | 'not_found'> {
    const n = await this.#versioned(
      `UPDATE api_keys SET previous_hash = hash, rotating_until = $2, hash = $3, prefix = $4
       WHERE id = $1 AND revoked_at IS NULL RETURNING 1`,
      [r.id, r.previousUntil, r.hash, r.prefix],
      audit,
    )
    return n === 1 ? 'changed' : 'not_found'
  }

  /** Runs a guarded key change; when it changed nothing, tells a missing key from the last admin one. */
  async #keyChange(change: string, params: unknown[], audit?: AuditDraft): Promise<KeyChangeResult> {
    if ((await this.#versioned(change, params, audit)) === 1) return 'changed'
    const key = await this.getApiKey(params[0] as string)
    return !key || key.revokedAt !== null ? 'not_found' : 'last_admin_key'
  }

  // Not a versioned change: last-used is informational and must not make every poller reload.
  async touchApiKey(id: string, atMs: number): Promise<void> {
    await this.#query('UPDATE api_keys SET last_used_at = $1 WHERE id = $2', [atMs, id])
  }

  async addSigningKey(r: SigningKeyRecord): Promise<void> {
    await this.#versioned(
      'INSERT INTO signing_keys (kid, private_key_sealed, created_at) VALUES ($1, $2, $3) RETURNING 1',
      [r.kid, seal(this.#kek, r.kid, r.privatePem), r.createdAt],
    )
  }

  async retireSigningKey(kid: string, atMs: number): Promise<void> {
    await this.#versioned('UPDATE signing_keys SET retired_at = $1 WHERE kid = $2 AND retired_at IS NULL RETURNING 1', [
      atMs,
      kid,
    ])
  }

  async replaceSigningKey(r: SigningKeyRecord, audit?: AuditDraft): Promise<string[]> {
    return this.#transaction(async (query) => {
      const { rows } = await query<{ kid: string }>(
        `WITH retired AS (UPDATE signing_keys SET retired_at = $3 WHERE retired_at IS NULL RETURNING kid, created_at),
        added AS (INSERT INTO signing_keys (kid, private_key_sealed, created_at) VALUES ($1, $2, $3)),
        bump AS (UPDATE meta SET value = value + 1 WHERE name = 'version')
        SELECT kid FROM retired ORDER BY created_at, kid`,
        [r.kid, seal(this.#kek, r.kid, r.privatePem), r.createdAt],
      )
      const retired = rows.map((k) => k.kid)
      if (audit) await appendAudit(query, { ...audit, details: { ...audit.details, retired } })
      return retired
    })
  }

  async prune(beforeMs: number): Promise<void> {
    await this.#query(
      `WITH keys AS (DELETE FROM signing_keys WHERE retired_at IS NOT NULL AND retired_at < $1 RETURNING 1),
      revs AS (DELETE FROM revocations WHERE expires_at < $1 RETURNING 1),
      usage AS (DELETE FROM token_usage WHERE expires_at < $1 RETURNING 1),
      audio AS (DELETE FROM token_audio WHERE expires_at < $1 RETURNING 1),
      slots AS (DELETE FROM stream_slots WHERE expires_at < $1 RETURNING 1),
      windows AS (DELETE FROM rate_windows WHERE started_at < $1 - 3600000 RETURNING 1),
      bump AS (UPDATE meta SET value = value + 1 WHERE name = 'version' AND (EXISTS (SELECT 1 FROM keys) OR EXISTS (SELECT 1 FROM revs)))
      SELECT (SELECT count(*) FROM usage) AS usage`,
      [beforeMs],
    )
  }

  async acquireSlot(jti: string, leaseId: string, limit: number, nowMs: number, ttlMs: number): Promise<boolean> {
    return (
      await this.#query<{ ok: boolean }>('SELECT voxgate_acquire_slot($1, $2, $3, $4, $5) AS ok', [
        jti,
        leaseId,
        limit,
        nowMs,
        ttlMs,
      ])
    ).rows[0]!.ok
  }

  async renewSlots(leases: readonly { jti: string; leaseId: string }[], nowMs: number, ttlMs: number): Promise<void> {
    if (leases.length === 0) return
    await this.#query(
      `INSERT INTO stream_slots (jti, lease_id, expires_at) SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[])
      ON CONFLICT (jti, lease_id) DO UPDATE SET expires_at = EXCLUDED.expires_at`,
      [leases.map((l) => l.jti), leases.map((l) => l.leaseId), leases.map(() => nowMs + ttlMs)],
    )
  }

  async releaseSlot(jti: string, leaseId: string): Promise<void> {
    await this.#query('DELETE FROM stream_slots WHERE jti = $1 AND lease_id = $2', [jti, leaseId])
  }

  async countSlots(jti: string, nowMs: number): Promise<number> {
    return Number(
      (
        await this.#query<{ n: string }>('SELECT count(*) AS n FROM stream_slots WHERE jti = $1 AND expires_at > $2', [
          jti,
          nowMs,
        ])
      ).rows[0]!.n,
    )
  }

  async takeRate(key: string, limit: number, windowMs: number, nowMs: number): Promise<number> {
    return Number(
      (
        await this.#query<{ wait: string }>('SELECT voxgate_take_rate($1, $2, $3, $4) AS wait', [
          key,
          limit,
          windowMs,
          nowMs,
        ])
      ).rows[0]!.wait,
    )
  }

  async reserveCharacters(
    jti: string,
    characters: number,
    budget: number | undefined,
    expiresAt: number,
  ): Promise<Reservation> {
    const row = (await this.#query<{ characters: string }>(RESERVE, [jti, characters, budget ?? null, expiresAt]))
      .rows[0]
    return row
      ? { granted: true, used: Number(row.characters) }
      : { granted: false, used: await this.usedCharacters(jti) }
  }

  async reserveAudio(jti: string, ms: number, budgetMs: number | undefined, expiresAt: number): Promise<Reservation> {
    const row = (await this.#query<{ ms: string }>(RESERVE_AUDIO, [jti, ms, budgetMs ?? null, expiresAt])).rows[0]
    return row ? { granted: true, used: Number(row.ms) } : { granted: false, used: await this.usedAudio(jti) }
  }

  async settleUsage(d: UsageDelta, refund?: UsageRefund): Promise<void> {
    // One statement: the ledger row and the refunds land together or not at all.
    await this.#query(
      `WITH ledger AS (
        INSERT INTO usage_ledger AS l (day, key_id, sub, characters, audio_ms_produced, audio_ms_transcribed, streams, audio_ms_voice_changed,
          characters_fallback, characters_cached)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $11, $12, $13) ON CONFLICT (day, key_id, sub) DO UPDATE SET
          characters = l.characters + EXCLUDED.characters, audio_ms_produced = l.audio_ms_produced + EXCLUDED.audio_ms_produced,
          audio_ms_transcribed = l.audio_ms_transcribed + EXCLUDED.audio_ms_transcribed, streams = l.streams + EXCLUDED.streams,
          audio_ms_voice_changed = l.audio_ms_voice_changed + EXCLUDED.audio_ms_voice_changed,
          characters_fallback = l.characters_fallback + EXCLUDED.characters_fallback,
          characters_cached = l.characters_cached + EXCLUDED.characters_cached RETURNING 1),
      chars AS (UPDATE token_usage SET characters = GREATEST(0, characters - $9) WHERE jti = ANY($8::text[]) AND $9 > 0 RETURNING 1),
      audio AS (UPDATE token_audio SET ms = GREATEST(0, ms - $10) WHERE jti = ANY($8::text[]) AND $10 > 0 RETURNING 1)
      SELECT 1`,
      [
        d.day,
        d.keyId,
        d.sub ?? '',
        d.characters,
        Math.round(d.audioMsProduced),
        Math.round(d.audioMsTranscribed),
        d.streams,
        refund?.keys ?? [],
        refund?.characters ?? 0,
        Math.floor(refund?.audioMs ?? 0),
        Math.round(d.audioMsVoiceChanged ?? 0),
        d.charactersFallback ?? 0,
        d.charactersCached ?? 0,
      ],
    )
  }

  async recordRefusal(r: UsageRefusal): Promise<void> {
    await this.#query(
      `INSERT INTO usage_refusals AS u (day, key_id, sub, reason, count) VALUES ($1, $2, $3, $4, 1)
      ON CONFLICT (day, key_id, sub, reason) DO UPDATE SET count = u.count + 1`,
      [r.day, r.keyId, r.sub ?? '', r.reason],
    )
  }

  async queryUsage(f: UsageFilter): Promise<UsageRow[]> {
    const sub = f.sub === undefined ? null : (f.sub ?? '')
    const refusals = (
      await this.#query<{ day: string; key_id: string; sub: string; reason: string; count: string }>(
        `SELECT * FROM usage_refusals WHERE day >= $1 AND day <= $2 AND ($3::text IS NULL OR key_id = $3) AND ($4::text IS NULL OR sub = $4)`,
        [f.from, f.to, f.keyId ?? null, sub],
      )
    ).rows.map((r) => ({
      day: r.day,
      keyId: r.key_id,
      sub: r.sub === '' ? null : r.sub,
      reason: r.reason,
      count: Number(r.count),
    }))
    const { rows } = await this.#query<{
      day: string
      key_id: string
      sub: string
      characters: string
      audio_ms_produced: string
      audio_ms_transcribed: string
      audio_ms_voice_changed: string
      characters_fallback: string
      characters_cached: string
      streams: string
    }>(
      `SELECT * FROM usage_ledger WHERE day >= $1 AND day <= $2 AND ($3::text IS NULL OR key_id = $3) AND ($4::text IS NULL OR sub = $4)
       ORDER BY day, key_id, sub`,
      [f.from, f.to, f.keyId ?? null, sub],
    )
    return mergeLedger(
      rows.map((r) => ({
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
      })),
      refusals,
    )
  }

  async refundAudio(jti: string, ms: number): Promise<void> {
    if (ms > 0) await this.#query('UPDATE token_audio SET ms = GREATEST(0, ms - $1) WHERE jti = $2', [ms, jti])
  }

  async usedAudio(jti: string): Promise<number> {
    return Number(
      (await this.#query<{ ms: string }>('SELECT ms FROM token_audio WHERE jti = $1', [jti])).rows[0]?.ms ?? 0,
    )
  }

  async refundCharacters(jti: string, characters: number): Promise<void> {
    if (characters > 0)
      await this.#query('UPDATE token_usage SET characters = GREATEST(0, characters - $1) WHERE jti = $2', [
        characters,
        jti,
      ])
  }

  async usedCharacters(jti: string): Promise<number> {
    const row = (await this.#query<{ characters: string }>('SELECT characters FROM token_usage WHERE jti = $1', [jti]))
      .rows[0]
    return row ? Number(row.characters) : 0
  }

  async putQuota(q: QuotaRecord, audit?: AuditDraft): Promise<{ quota: QuotaRecord; created: boolean }> {
    if (!audit) return this.#putQuota(this.#query, q)
    return this.#transaction(async (query) => {
      const put = await this.#putQuota(query, q)
      await appendAudit(query, {
        ...audit,
        target: { type: 'quota', id: put.quota.id },
        details: { ...audit.details, created: put.created },
      })
      return put
    })
  }

  async #putQuota(query: PgQuery, q: QuotaRecord): Promise<{ quota: QuotaRecord; created: boolean }> {
    // One statement: the upsert and the version bump land together. xmax = 0 only on a fresh insert.
    const { rows } = await query<QuotaRow & { inserted: boolean }>(
      `WITH change AS (
        INSERT INTO quotas AS q (id, sub, key_id, period, characters, audio_seconds, created_at, alert_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        ON CONFLICT (sub, key_id, period) DO UPDATE SET characters = EXCLUDED.characters, audio_seconds = EXCLUDED.audio_seconds,
          alert_at = EXCLUDED.alert_at
        RETURNING q.*, (q.xmax = 0) AS inserted),
      bump AS (UPDATE meta SET value = value + 1 WHERE name = 'version')
      SELECT * FROM change`,
      [
        q.id,
        q.sub ?? '',
        q.keyId ?? '',
        q.period,
        q.characters,
        q.audioSeconds,
        q.createdAt,
        q.alertAt ? JSON.stringify(q.alertAt) : null,
      ],
    )
    return { quota: toQuota(rows[0]!), created: rows[0]!.inserted }
  }

  async listQuotas(): Promise<QuotaRecord[]> {
    return (await this.#query<QuotaRow>('SELECT * FROM quotas ORDER BY created_at, id')).rows.map(toQuota)
  }

  async deleteQuota(id: string, audit?: AuditDraft): Promise<boolean> {
    return (await this.#versioned('DELETE FROM quotas WHERE id = $1 RETURNING 1', [id], audit)) === 1
  }

  async addRevocation(r: Revocation, audit?: AuditDraft): Promise<void> {
    const [value, issuedBefore] = r.kind === 'jti' ? [r.jti, null] : [r.sub, r.issuedBefore]
    await this.#versioned(
      'INSERT INTO revocations (kind, value, issued_before, expires_at) VALUES ($1, $2, $3, $4) RETURNING 1',
      [r.kind, value, issuedBefore, r.expiresAt],
      audit,
    )
  }

  // Webhooks are not versioned changes: no instance caches them, each delivery reads its webhook.
  async createWebhook(w: WebhookRecord, audit?: AuditDraft): Promise<void> {
    const insert = (query: PgQuery) =>
      query('INSERT INTO webhooks (id, url, events, secret_sealed, created_at) VALUES ($1, $2, $3, $4, $5)', [
        w.id,
        w.url,
        JSON.stringify(w.events),
        seal(this.#kek, webhookAad(w.id), w.secret),
        w.createdAt,
      ])
    if (!audit) {
      await insert(this.#query)
      return
    }
    await this.#transaction(async (query) => {
      await insert(query)
      await appendAudit(query, audit)
    })
  }

  #webhook(r: WebhookRow): WebhookRecord {
    return {
      id: r.id,
      url: r.url,
      events: r.events,
      secret: unseal(this.#kek, webhookAad(r.id), r.secret_sealed),
      createdAt: Number(r.created_at),
    }
  }

  async listWebhooks(): Promise<WebhookRecord[]> {
    const { rows } = await this.#query<WebhookRow>('SELECT * FROM webhooks ORDER BY created_at, id')
    return rows.map((r) => this.#webhook(r))
  }

  async getWebhook(id: string): Promise<WebhookRecord | undefined> {
    const row = (await this.#query<WebhookRow>('SELECT * FROM webhooks WHERE id = $1', [id])).rows[0]
    return row && this.#webhook(row)
  }

  async removeWebhook(id: string, audit?: AuditDraft): Promise<boolean> {
    const remove = async (query: PgQuery) =>
      (
        await query<{ n: number }>(
          `WITH w AS (DELETE FROM webhooks WHERE id = $1 RETURNING 1),
           d AS (DELETE FROM webhook_deliveries WHERE webhook_id = $1 RETURNING 1)
           SELECT count(*)::int AS n FROM w`,
          [id],
        )
      ).rows[0]!.n === 1
    if (!audit) return remove(this.#query)
    return this.#transaction(async (query) => {
      const removed = await remove(query)
      // Nothing removed, nothing recorded.
      if (removed) await appendAudit(query, audit)
      return removed
    })
  }

  async setWebhookSecret(id: string, secret: string): Promise<boolean> {
    const { rowCount } = await this.#query('UPDATE webhooks SET secret_sealed = $2 WHERE id = $1', [
      id,
      seal(this.#kek, webhookAad(id), secret),
    ])
    return rowCount === 1
  }

  async enqueueWebhookEvent(e: OutboxEvent, onlyWebhookId?: string): Promise<boolean> {
    const { rows } = await this.#query<{ n: number }>(ENQUEUE, [
      e.id,
      e.type,
      e.body,
      e.createdAt,
      e.dedupeKey,
      onlyWebhookId ?? null,
    ])
    return rows[0]!.n === 1
  }

  async claimWebhookDeliveries(nowMs: number, leaseMs: number, limit: number): Promise<ClaimedDelivery[]> {
    const { rows } = await this.#query<{
      webhook_id: string
      event_id: string
      type: string
      body: string
      url: string
      secret_sealed: string
      attempt: number
      event_created_at: string
    }>(CLAIM, [nowMs, leaseMs, limit])
    return rows.map((r) => ({
      webhookId: r.webhook_id,
      eventId: r.event_id,
      type: r.type,
      body: r.body,
      url: r.url,
      secret: unseal(this.#kek, webhookAad(r.webhook_id), r.secret_sealed),
      attempt: r.attempt,
      eventCreatedAt: Number(r.event_created_at),
    }))
  }

  async recordWebhookAttempt(a: WebhookAttempt): Promise<void> {
    await this.#query(
      `UPDATE webhook_deliveries SET attempt = $3, status_code = $4, error = $5, next_attempt_at = $6, delivered_at = $7,
         leased_until = 0 WHERE webhook_id = $1 AND event_id = $2`,
      [a.webhookId, a.eventId, a.attempt, a.statusCode, a.error, a.nextAttemptAt, a.deliveredAt],
    )
  }

  async listWebhookDeliveries(webhookId: string, limit: number): Promise<WebhookDelivery[]> {
    const { rows } = await this.#query<DeliveryRow>(
      `SELECT d.*, e.type FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
       WHERE d.webhook_id = $1 ORDER BY d.created_at DESC, d.event_id DESC LIMIT $2`,
      [webhookId, limit],
    )
    return rows.map((r) => ({
      webhookId: r.webhook_id,
      eventId: r.event_id,
      type: r.type,
      attempt: r.attempt,
      statusCode: r.status_code,
      error: r.error,
      nextAttemptAt: num(r.next_attempt_at),
      deliveredAt: num(r.delivered_at),
      createdAt: Number(r.created_at),
    }))
  }

  async pruneWebhookEvents(beforeMs: number): Promise<void> {
    await this.#query(
      `WITH gone AS (DELETE FROM webhook_events WHERE created_at < $1 RETURNING id)
       DELETE FROM webhook_deliveries WHERE event_id IN (SELECT id FROM gone)`,
      [beforeMs],
    )
  }

  async appendAudit(draft: AuditDraft, once?: AuditOnce): Promise<boolean> {
    if (once) return appendAuditOnce(this.#query, draft, once)
    await appendAudit(this.#query, draft)
    return true
  }

  queryAudit(filter: AuditFilter): Promise<AuditPage> {
    return queryAudit(this.#query, filter)
  }

  pruneAudit(beforeMs: number): Promise<number> {
    return pruneAudit(this.#query, beforeMs)
  }

  async addConsoleLoginCode(codeHash: string, expiresAt: number): Promise<void> {
    await this.#query('INSERT INTO console_login_codes (code_hash, expires_at) VALUES ($1, $2)', [codeHash, expiresAt])
  }

  async takeConsoleLoginCode(codeHash: string, nowMs: number): Promise<boolean> {
    // One DELETE: of two instances racing with one code, only one gets its row back.
    const { rows } = await this.#query<{ expires_at: string }>(
      'DELETE FROM console_login_codes WHERE code_hash = $1 RETURNING expires_at',
      [codeHash],
    )
    return rows.length === 1 && Number(rows[0]!.expires_at) > nowMs
  }

  async createConsoleSession(r: ConsoleSessionRecord, audit?: AuditDraft): Promise<void> {
    const insert = (query: PgQuery) =>
      query(
        'INSERT INTO console_sessions (id_hash, key_id, scope, created_at, last_seen_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)',
        [r.idHash, r.keyId, r.scope, r.createdAt, r.lastSeenAt, r.expiresAt],
      )
    if (!audit) {
      await insert(this.#query)
      return
    }
    await this.#transaction(async (query) => {
      await insert(query)
      await appendAudit(query, audit)
    })
  }

  async getConsoleSession(idHash: string): Promise<ConsoleSessionRecord | undefined> {
    const { rows } = await this.#query<ConsoleSessionRow>('SELECT * FROM console_sessions WHERE id_hash = $1', [idHash])
    return rows[0] && toConsoleSession(rows[0])
  }

  async touchConsoleSession(idHash: string, atMs: number): Promise<void> {
    await this.#query('UPDATE console_sessions SET last_seen_at = GREATEST(last_seen_at, $1) WHERE id_hash = $2', [
      atMs,
      idHash,
    ])
  }

  async endConsoleSession(idHash: string): Promise<boolean> {
    return (await this.#query('DELETE FROM console_sessions WHERE id_hash = $1', [idHash])).rowCount === 1
  }

  async pruneConsoleSessions(nowMs: number, idleBeforeMs: number): Promise<void> {
    await this.#query('DELETE FROM console_sessions WHERE expires_at <= $1 OR last_seen_at < $2', [nowMs, idleBeforeMs])
    await this.#query('DELETE FROM console_login_codes WHERE expires_at <= $1', [nowMs])
  }

  async version(): Promise<number> {
    return Number(
      (await this.#query<{ value: string }>("SELECT value FROM meta WHERE name = 'version'")).rows[0]?.value ?? 0,
    )
  }

  async snapshot(): Promise<StoreSnapshot> {
    const s = (await this.#query<SnapshotRow>(SNAPSHOT)).rows[0]!
    return {
      version: Number(s.version),
      revokedKeyIds: s.revoked,
      signingKeys: s.signing.map((k) => ({
        kid: k.kid,
        privatePem: unseal(this.#kek, k.kid, k.sealed),
        createdAt: k.created_at,
        retiredAt: k.retired_at,
      })),
      revocations: s.revocations.map(toRevocation),
    }
  }

  async close(): Promise<void> {
    await this.#target.pool.end()
  }
}

/** One statement on a pool or a client. pg's errors carry no credentials, but they are wrapped so no connection detail rides along either. */
async function runOn<R extends pg.QueryResultRow>(
  db: pg.Pool | pg.PoolClient,
  sql: string,
  params: unknown[],
): Promise<pg.QueryResult<R>> {
  try {
    return await db.query<R>(sql, params)
  } catch (err) {
    const e = new StoreError('store_unavailable', `PostgreSQL: ${pgFailure(err)}`)
    if (err && typeof err === 'object' && 'code' in err && typeof err.code === 'string')
      Object.assign(e, { sqlState: err.code })
    throw e
  }
}
