import type { QuotaPeriod, QuotaRecord } from './quotas.ts'

/** A quota as both stores keep it. */
export interface QuotaRow {
  id: string
  sub: string
  key_id: string
  period: QuotaPeriod
  characters: number | null
  audio_seconds: number | null
  /** JSON text in SQLite, JSONB (parsed) in PostgreSQL; null: the default thresholds. */
  alert_at: string | number[] | null
  created_at: number
}
/** '' stands for "any" in the table, so the unique constraint holds (NULLs would all differ). */
export const toQuota = (r: QuotaRow): QuotaRecord => ({
  id: r.id,
  sub: r.sub === '' ? null : r.sub,
  keyId: r.key_id === '' ? null : r.key_id,
  period: r.period,
  characters: r.characters === null ? null : Number(r.characters),
  audioSeconds: r.audio_seconds === null ? null : Number(r.audio_seconds),
  alertAt: typeof r.alert_at === 'string' ? (JSON.parse(r.alert_at) as number[]) : (r.alert_at ?? null),
  createdAt: Number(r.created_at),
})
