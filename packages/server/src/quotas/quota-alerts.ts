import type { ThresholdReached } from './thresholds.ts'
import { quotaThresholdKey, type QuotaThresholdData } from '../webhooks/events.ts'
import type { Outbox } from '../webhooks/outbox.ts'

/** A reached threshold as the `quota.threshold` event's data: audio in seconds, as quotas are set. */
export function thresholdData(r: ThresholdReached): QuotaThresholdData {
  const q = r.charge.quota
  const seconds = r.meter === 'audio'
  return {
    quota_id: q.id,
    sub: q.sub,
    key_id: q.keyId,
    period: q.period,
    period_start: new Date(r.charge.periodStartMs).toISOString(),
    threshold: r.threshold,
    used: seconds ? r.used / 1000 : r.used,
    limit: seconds ? r.charge.limit / 1000 : r.charge.limit,
    unit: seconds ? 'audio_seconds' : 'characters',
  }
}

/**
 * Enqueues the `quota.threshold` event of a reached threshold under its dedupe key: one event per
 * quota, period, meter and threshold across the cluster, however many reservations reach it.
 */
export function announceThreshold(outbox: Outbox, nowMs: () => number) {
  return async (r: ThresholdReached): Promise<void> => {
    const data = thresholdData(r)
    await outbox.enqueue('quota.threshold', { ...data }, { atMs: nowMs(), dedupeKey: quotaThresholdKey(data) })
  }
}
