import type pg from 'pg'
import { StoreError } from './errors.ts'

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
