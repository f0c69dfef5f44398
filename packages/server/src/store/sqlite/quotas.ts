import { toQuota, type QuotaRow } from '../quota-row.ts'
import type { QuotaStore } from '../quotas.ts'
import type { SqliteContext } from './context.ts'

export const QUOTAS_SCHEMA = `
CREATE TABLE IF NOT EXISTS quotas (
  id TEXT PRIMARY KEY, sub TEXT NOT NULL, key_id TEXT NOT NULL, period TEXT NOT NULL CHECK (period IN ('day', 'month')),
  characters INTEGER, audio_seconds INTEGER, created_at INTEGER NOT NULL, UNIQUE (sub, key_id, period));
`

/** Quotas in SQLite (quotas.ts states the contract). */
export function sqliteQuotas(ctx: SqliteContext): QuotaStore {
  const { db } = ctx
  const stmt = {
    find: db.prepare<[string, string, string], QuotaRow>(
      'SELECT * FROM quotas WHERE sub = ? AND key_id = ? AND period = ?',
    ),
    insert: db.prepare(
      'INSERT INTO quotas (id, sub, key_id, period, characters, audio_seconds, created_at, alert_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    update: db.prepare('UPDATE quotas SET characters = ?, audio_seconds = ?, alert_at = ? WHERE id = ?'),
    all: db.prepare<[], QuotaRow>('SELECT * FROM quotas ORDER BY created_at, id'),
    delete: db.prepare('DELETE FROM quotas WHERE id = ?'),
  }
  return {
    async putQuota(q, audit) {
      return ctx.write(() => {
        const existing = stmt.find.get(q.sub ?? '', q.keyId ?? '', q.period)
        const alertAt = q.alertAt ? JSON.stringify(q.alertAt) : null
        if (existing) stmt.update.run(q.characters, q.audioSeconds, alertAt, existing.id)
        else
          stmt.insert.run(
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
          ctx.audit({
            ...audit,
            target: { type: 'quota', id: quota.id },
            details: { ...audit.details, created: !existing },
          })
        return { quota, created: !existing }
      })
    },

    async listQuotas() {
      return stmt.all.all().map(toQuota)
    },

    async deleteQuota(id, audit) {
      return db.transaction(() => {
        const removed = stmt.delete.run(id).changes === 1
        if (removed) {
          ctx.bump()
          ctx.audit(audit)
        }
        return removed
      })()
    },
  }
}
