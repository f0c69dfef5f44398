import type { QuotaRecord } from '../store/types.ts'
import type { QuotaCharge, QuotaMeter } from './book.ts'

/** Thresholds of a quota that sets none: 80 % and 100 % of each cap. */
export const DEFAULT_ALERT_AT: readonly number[] = [0.8, 1]
/** Most thresholds one quota may set. */
export const MAX_ALERT_THRESHOLDS = 10

export const alertThresholds = (q: QuotaRecord): readonly number[] => q.alertAt ?? DEFAULT_ALERT_AT

/** A quota's threshold reached by one granted reservation. */
export interface ThresholdReached {
  charge: QuotaCharge
  meter: QuotaMeter
  threshold: number
  /** The counter after the reservation, in the meter's unit (characters, or ms of audio). */
  used: number
}

/**
 * The thresholds a reservation took its counter to or past (≥): those with `before < t × limit ≤
 * after`. Reservations on one counter are atomic, so as usage rises exactly one of them reaches each
 * threshold; a refund lowering the counter and a later reservation reaching it again is stopped by
 * the outbox's dedupe key, so a refund never fires (nor un-fires) an event.
 */
export function thresholdsReached(charge: QuotaCharge, meter: QuotaMeter, before: number, after: number) {
  return alertThresholds(charge.quota)
    .filter((t) => before < t * charge.limit && t * charge.limit <= after)
    .map((threshold): ThresholdReached => ({ charge, meter, threshold, used: after }))
}
