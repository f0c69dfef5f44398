import type pg from 'pg'
import { StoreError } from '../errors.ts'

/**
 * The PostgreSQL schema, as numbered migrations applied in order at start by every server and CLI
 * command. Never edit one that has shipped: append a new one. Times are epoch milliseconds (BIGINT).
 */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE meta (name TEXT PRIMARY KEY, value BIGINT NOT NULL);
   INSERT INTO meta (name, value) VALUES ('version', 1);
   CREATE TABLE api_keys (
     id TEXT PRIMARY KEY, name TEXT NOT NULL, hash TEXT NOT NULL UNIQUE, prefix TEXT NOT NULL,
     created_at BIGINT NOT NULL, last_used_at BIGINT, revoked_at BIGINT);
   CREATE TABLE signing_keys (
     kid TEXT PRIMARY KEY, private_key_sealed TEXT NOT NULL, created_at BIGINT NOT NULL, retired_at BIGINT);
   CREATE TABLE revocations (
     id BIGSERIAL PRIMARY KEY, kind TEXT NOT NULL CHECK (kind IN ('jti', 'sub')),
     value TEXT NOT NULL, issued_before BIGINT, expires_at BIGINT NOT NULL);
   CREATE TABLE token_usage (
     jti TEXT PRIMARY KEY, characters BIGINT NOT NULL CHECK (characters >= 0), expires_at BIGINT NOT NULL);
   CREATE INDEX token_usage_expires_at ON token_usage (expires_at);
   CREATE TABLE key_encryption (id INTEGER PRIMARY KEY CHECK (id = 1), check_value TEXT NOT NULL);`,
  // 2: shared counters for deployments without Redis. Each step is one function call: the advisory
  // lock (per token) or the row lock (per window) serialises instances for exactly that step.
  `CREATE TABLE stream_slots (jti TEXT NOT NULL, lease_id TEXT NOT NULL, expires_at BIGINT NOT NULL, PRIMARY KEY (jti, lease_id));
   CREATE INDEX stream_slots_expires_at ON stream_slots (expires_at);
   CREATE TABLE rate_windows (key TEXT PRIMARY KEY, started_at BIGINT NOT NULL, count INTEGER NOT NULL);
   CREATE FUNCTION voxgate_acquire_slot(p_jti TEXT, p_lease TEXT, p_limit INTEGER, p_now BIGINT, p_ttl BIGINT) RETURNS BOOLEAN
   LANGUAGE plpgsql AS $$
   BEGIN
     PERFORM pg_advisory_xact_lock(hashtextextended('voxgate-slot:' || p_jti, 0));
     DELETE FROM stream_slots WHERE jti = p_jti AND expires_at <= p_now;
     IF (SELECT count(*) FROM stream_slots WHERE jti = p_jti) >= p_limit THEN RETURN FALSE; END IF;
     INSERT INTO stream_slots (jti, lease_id, expires_at) VALUES (p_jti, p_lease, p_now + p_ttl)
       ON CONFLICT (jti, lease_id) DO UPDATE SET expires_at = EXCLUDED.expires_at;
     RETURN TRUE;
   END $$;
   CREATE FUNCTION voxgate_take_rate(p_key TEXT, p_limit INTEGER, p_window BIGINT, p_now BIGINT) RETURNS BIGINT
   LANGUAGE plpgsql AS $$
   DECLARE w rate_windows%ROWTYPE;
   BEGIN
     INSERT INTO rate_windows (key, started_at, count) VALUES (p_key, p_now, 0) ON CONFLICT (key) DO NOTHING;
     SELECT * INTO w FROM rate_windows WHERE key = p_key FOR UPDATE;
     IF p_now - w.started_at >= p_window THEN
       UPDATE rate_windows SET started_at = p_now, count = 1 WHERE key = p_key;
       RETURN 0;
     END IF;
     IF w.count >= p_limit THEN RETURN GREATEST(1, w.started_at + p_window - p_now); END IF;
     UPDATE rate_windows SET count = count + 1 WHERE key = p_key;
     RETURN 0;
   END $$;`,
  // 3: milliseconds of audio transcribed per token (`limits.audio_seconds`), like characters.
  `CREATE TABLE token_audio (jti TEXT PRIMARY KEY, ms BIGINT NOT NULL CHECK (ms >= 0), expires_at BIGINT NOT NULL);
   CREATE INDEX token_audio_expires_at ON token_audio (expires_at);`,
  // 4: the usage ledger, one row per API key, sub ('' for none) and UTC day.
  `CREATE TABLE usage_ledger (day TEXT NOT NULL, key_id TEXT NOT NULL, sub TEXT NOT NULL, characters BIGINT NOT NULL,
     audio_ms_produced BIGINT NOT NULL, audio_ms_transcribed BIGINT NOT NULL, streams BIGINT NOT NULL, PRIMARY KEY (day, key_id, sub));`,
  // 5: streams refused for a known credential, by reason.
  `CREATE TABLE usage_refusals (day TEXT NOT NULL, key_id TEXT NOT NULL, sub TEXT NOT NULL, reason TEXT NOT NULL, count BIGINT NOT NULL,
     PRIMARY KEY (day, key_id, sub, reason));`,
  // 6: quotas per sub and/or API key ('' for any) and period; their usage lives in token_usage/token_audio under `quota:…` keys.
  `CREATE TABLE quotas (id TEXT PRIMARY KEY, sub TEXT NOT NULL, key_id TEXT NOT NULL, period TEXT NOT NULL CHECK (period IN ('day', 'month')),
     characters BIGINT, audio_seconds BIGINT, created_at BIGINT NOT NULL, UNIQUE (sub, key_id, period));`,
  // 7: milliseconds of audio relayed to the voice changer (gateway mode), per ledger row.
  'ALTER TABLE usage_ledger ADD COLUMN audio_ms_voice_changed BIGINT NOT NULL DEFAULT 0;',
  // 8: API key scopes (keys made before keep full power), the policy bounding what a key mints, its expiry.
  `ALTER TABLE api_keys ADD COLUMN scopes JSONB NOT NULL DEFAULT '["admin"]';
   ALTER TABLE api_keys ADD COLUMN policy JSONB;
   ALTER TABLE api_keys ADD COLUMN expires_at BIGINT;`,
  // 9: key rotation (the secret replaced works until rotating_until), and the audit log: append-only
  // (the trigger refuses updates; pruning deletes), `seq` orders rows within one millisecond, and
  // audit_once remembers when a row that is written at most once per window last was.
  `ALTER TABLE api_keys ADD COLUMN previous_hash TEXT UNIQUE;
   ALTER TABLE api_keys ADD COLUMN rotating_until BIGINT;
   CREATE TABLE audit_log (seq BIGSERIAL PRIMARY KEY, id TEXT NOT NULL UNIQUE, at BIGINT NOT NULL, action TEXT NOT NULL,
     actor_type TEXT NOT NULL, actor_key_id TEXT, target_type TEXT NOT NULL, target_id TEXT NOT NULL,
     request_id TEXT NOT NULL, ip TEXT, details JSONB NOT NULL);
   CREATE INDEX audit_log_at ON audit_log (at, seq);
   CREATE TABLE audit_once (key TEXT PRIMARY KEY, at BIGINT NOT NULL);
   CREATE FUNCTION voxgate_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$;
   CREATE TRIGGER audit_log_append_only BEFORE UPDATE ON audit_log FOR EACH ROW EXECUTE FUNCTION voxgate_audit_append_only();`,
  // 10: webhooks and their durable outbox (an event per row, its dedupe key unique across the cluster;
  // a delivery per event and webhook, leased by one instance at a time), and a quota's alert thresholds.
  `CREATE TABLE webhooks (id TEXT PRIMARY KEY, url TEXT NOT NULL, events JSONB NOT NULL, secret_sealed TEXT NOT NULL,
     created_at BIGINT NOT NULL);
   CREATE TABLE webhook_events (id TEXT PRIMARY KEY, type TEXT NOT NULL, body TEXT NOT NULL, created_at BIGINT NOT NULL,
     dedupe_key TEXT UNIQUE);
   CREATE INDEX webhook_events_created_at ON webhook_events (created_at);
   CREATE TABLE webhook_deliveries (webhook_id TEXT NOT NULL, event_id TEXT NOT NULL, attempt INTEGER NOT NULL DEFAULT 0,
     status_code INTEGER, error TEXT, next_attempt_at BIGINT, leased_until BIGINT NOT NULL DEFAULT 0, delivered_at BIGINT,
     created_at BIGINT NOT NULL, PRIMARY KEY (webhook_id, event_id));
   CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE next_attempt_at IS NOT NULL;
   CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_id);
   ALTER TABLE quotas ADD COLUMN alert_at JSONB;`,
  // 11: operator console sign-in codes and sessions, by the digests of their secrets.
  `CREATE TABLE console_login_codes (code_hash TEXT PRIMARY KEY, expires_at BIGINT NOT NULL);
   CREATE TABLE console_sessions (id_hash TEXT PRIMARY KEY, key_id TEXT, scope TEXT NOT NULL CHECK (scope IN ('admin', 'read')),
     created_at BIGINT NOT NULL, last_seen_at BIGINT NOT NULL, expires_at BIGINT NOT NULL);`,
  // 12: of a ledger row's characters, those spoken by the gateway's local fallback and those answered from the TTS cache.
  `ALTER TABLE usage_ledger ADD COLUMN characters_fallback BIGINT NOT NULL DEFAULT 0;
   ALTER TABLE usage_ledger ADD COLUMN characters_cached BIGINT NOT NULL DEFAULT 0;`,
]

/** Any 64-bit number of our own: serialises voxgate migrations on one database, whatever the schema. */
const MIGRATION_LOCK = 0x766f_7867_6174

/**
 * Applies the pending migrations in one transaction under a transaction-scoped advisory lock, so
 * instances starting at once wait for each other instead of racing, and a failure leaves nothing
 * half-applied. Idempotent: with nothing pending it only reads the version.
 */
export async function migrate(client: pg.PoolClient, schema: string | undefined): Promise<void> {
  await client.query('BEGIN')
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK])
    if (schema !== undefined) await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`)
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)',
    )
    const { rows } = await client.query<{ v: number | null }>('SELECT max(version) AS v FROM schema_migrations')
    const current = rows[0]?.v ?? 0
    if (current > MIGRATIONS.length) {
      throw new StoreError(
        'store_unavailable',
        `the database schema is at version ${current}, newer than this voxgate knows (${MIGRATIONS.length}); upgrade voxgate`,
      )
    }
    for (let v = current + 1; v <= MIGRATIONS.length; v++) {
      await client.query(MIGRATIONS[v - 1]!)
      await client.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [v, Date.now()])
    }
    await client.query('COMMIT')
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined)
    throw err
  }
}
