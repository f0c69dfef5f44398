import { StoreError } from '../errors.ts'
import { seal, unseal } from '../key-sealing.ts'
import type { Store } from '../types.ts'
import { pgApiKeys } from './api-keys.ts'
import { pgAuditStore } from './audit.ts'
import { pgConsoleSessions } from './console-sessions.ts'
import { pgContext, type PgContext } from './context.ts'
import { pgCounters } from './counters.ts'
import { migrate } from './migrations.ts'
import { createPool, pgFailure, type PgTarget } from './pool.ts'
import { pgQuotas } from './quotas.ts'
import { pgRevocations, toRevocation, type RevocationJson } from './revocations.ts'
import { pgSigningKeys, unsealSigningKey, type SealedSigningKey } from './signing-keys.ts'
import { pgUsage } from './usage.ts'
import { pgWebhooks } from './webhooks.ts'

/** One statement, so one MVCC snapshot: a consistent view without holding a connection in a transaction. */
const SNAPSHOT = `SELECT
  (SELECT value FROM meta WHERE name = 'version') AS version,
  (SELECT coalesce(json_agg(id ORDER BY created_at, id), '[]') FROM api_keys WHERE revoked_at IS NOT NULL) AS revoked,
  (SELECT coalesce(json_agg(json_build_object('kid', kid, 'sealed', private_key_sealed, 'created_at', created_at, 'retired_at', retired_at)
     ORDER BY created_at, kid), '[]') FROM signing_keys) AS signing,
  (SELECT coalesce(json_agg(json_build_object('kind', kind, 'value', value, 'issued_before', issued_before, 'expires_at', expires_at)
     ORDER BY id), '[]') FROM revocations) AS revocations`

/** Housekeeping across the concerns, one statement; the version moves only when a signing key or revocation went. */
const PRUNE = `WITH keys AS (DELETE FROM signing_keys WHERE retired_at IS NOT NULL AND retired_at < $1 RETURNING 1),
  revs AS (DELETE FROM revocations WHERE expires_at < $1 RETURNING 1),
  usage AS (DELETE FROM token_usage WHERE expires_at < $1 RETURNING 1),
  audio AS (DELETE FROM token_audio WHERE expires_at < $1 RETURNING 1),
  slots AS (DELETE FROM stream_slots WHERE expires_at < $1 RETURNING 1),
  windows AS (DELETE FROM rate_windows WHERE started_at < $1 - 3600000 RETURNING 1),
  bump AS (UPDATE meta SET value = value + 1 WHERE name = 'version' AND (EXISTS (SELECT 1 FROM keys) OR EXISTS (SELECT 1 FROM revs)))
  SELECT (SELECT count(*) FROM usage) AS usage`

interface SnapshotRow {
  version: string
  revoked: string[]
  signing: SealedSigningKey[]
  revocations: RevocationJson[]
}

/** The first start seals a check value; later starts must open it, so a wrong KEK fails at once, not at the first token. */
async function checkKek(ctx: PgContext): Promise<void> {
  await ctx.query('INSERT INTO key_encryption (id, check_value) VALUES (1, $1) ON CONFLICT (id) DO NOTHING', [
    seal(ctx.kek, 'kek-check', 'voxgate'),
  ])
  const { rows } = await ctx.query<{ check_value: string }>('SELECT check_value FROM key_encryption WHERE id = 1')
  unseal(ctx.kek, 'kek-check', rows[0]!.check_value)
}

/**
 * The store in PostgreSQL, for several instances behind a load balancer: its concerns (one file
 * each) composed over one pool. Connects, applies pending migrations and checks the KEK; a clear,
 * password-free error otherwise.
 */
export async function openPostgresStore(url: URL, kek: Buffer): Promise<Store> {
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
    const ctx = pgContext(target.pool, kek)
    await checkKek(ctx)
    return compose(target, ctx)
  } catch (err) {
    await target.pool.end().catch(() => undefined)
    if (err instanceof StoreError) throw err
    throw new StoreError('store_unreachable', `cannot open the store at ${target.display}: ${pgFailure(err)}`)
  }
}

function compose(target: PgTarget, ctx: PgContext): Store {
  const { query } = ctx
  return {
    ...pgApiKeys(ctx),
    ...pgSigningKeys(ctx),
    ...pgRevocations(ctx),
    ...pgUsage(ctx),
    ...pgQuotas(ctx),
    ...pgCounters(query),
    ...pgAuditStore(query),
    ...pgWebhooks(ctx),
    ...pgConsoleSessions(ctx),

    async version() {
      return Number(
        (await query<{ value: string }>("SELECT value FROM meta WHERE name = 'version'")).rows[0]?.value ?? 0,
      )
    },

    async snapshot() {
      const s = (await query<SnapshotRow>(SNAPSHOT)).rows[0]!
      return {
        version: Number(s.version),
        revokedKeyIds: s.revoked,
        signingKeys: s.signing.map((k) => unsealSigningKey(ctx.kek, k)),
        revocations: s.revocations.map(toRevocation),
      }
    },

    async prune(beforeMs) {
      await query(PRUNE, [beforeMs])
    },

    async close() {
      await target.pool.end()
    },
  }
}
