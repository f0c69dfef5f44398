import type { AuditDraft } from './audit-types.ts'

export type QuotaPeriod = 'day' | 'month'

/**
 * A cap on what one end-user (`sub`), one API key, or both, may use per UTC day or month, across all
 * their tokens. A null `sub` / `keyId` matches any. Its usage in each period is a counter kept with
 * the tokens' (see `quotaCounter`), reserved through the same path (usage.ts).
 */
export interface QuotaRecord {
  id: string
  sub: string | null
  keyId: string | null
  period: QuotaPeriod
  /** Characters synthesized per period; null: not capped. */
  characters: number | null
  /** Seconds of audio transcribed per period; null: not capped. */
  audioSeconds: number | null
  /** Fractions of a cap whose crossing fires a `quota.threshold` webhook event; null: the default (0.8, 1). */
  alertAt?: number[] | null | undefined
  createdAt: number
}

/**
 * Quotas, one per (`sub`, `keyId`, `period`). A change (put, delete) moves the version so every
 * instance reloads its quotas, and appends its audit row in the same transaction; a delete that
 * removes nothing moves nothing and appends nothing.
 */
export interface QuotaStore {
  /**
   * Sets the quota for its (`sub`, `keyId`, `period`): a new one gets `record.id` and `createdAt`, an
   * existing one keeps its id (and its period's usage) and takes the new caps (`alertAt` included:
   * absent goes back to the default). The audit row's target id becomes the id the quota keeps, and
   * its details get `created`.
   */
  putQuota(record: QuotaRecord, audit?: AuditDraft): Promise<{ quota: QuotaRecord; created: boolean }>
  /** Every quota, oldest first. */
  listQuotas(): Promise<QuotaRecord[]>
  /** False when no such quota. */
  deleteQuota(id: string, audit?: AuditDraft): Promise<boolean>
}
