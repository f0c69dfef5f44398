import { appendAudit } from './audit.ts'
import type { PgQuery } from './connection.ts'
import type { PgContext } from './context.ts'
import { toQuota, type QuotaRow } from '../quota-row.ts'
import type { QuotaRecord, QuotaStore } from '../quotas.ts'

async function put(query: PgQuery, q: QuotaRecord): Promise<{ quota: QuotaRecord; created: boolean }> {
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

/** Quotas in PostgreSQL (quotas.ts states the contract). */
export function pgQuotas(ctx: PgContext): QuotaStore {
  return {
    async putQuota(q, audit) {
      if (!audit) return put(ctx.query, q)
      return ctx.transaction(async (query) => {
        const result = await put(query, q)
        await appendAudit(query, {
          ...audit,
          target: { type: 'quota', id: result.quota.id },
          details: { ...audit.details, created: result.created },
        })
        return result
      })
    },

    async listQuotas() {
      return (await ctx.query<QuotaRow>('SELECT * FROM quotas ORDER BY created_at, id')).rows.map(toQuota)
    },

    async deleteQuota(id, audit) {
      return (await ctx.versioned('DELETE FROM quotas WHERE id = $1 RETURNING 1', [id], audit)) === 1
    },
  }
}
