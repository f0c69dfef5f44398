import type { QuotaPeriod } from '../store/types.ts'

/** One UTC day or month: its key (`YYYY-MM-DD` / `YYYY-MM`) and its bounds in ms. */
export interface PeriodSpan {
  key: string
  startMs: number
  endMs: number
}

/** The UTC day or month holding `nowMs`. */
export function periodOf(period: QuotaPeriod, nowMs: number): PeriodSpan {
  const d = new Date(nowMs)
  const y = d.getUTCFullYear()
  const m = d.getUTCMonth()
  if (period === 'month') {
    return { key: d.toISOString().slice(0, 7), startMs: Date.UTC(y, m, 1), endMs: Date.UTC(y, m + 1, 1) }
  }
  const startMs = Date.UTC(y, m, d.getUTCDate())
  return { key: d.toISOString().slice(0, 10), startMs, endMs: Date.UTC(y, m, d.getUTCDate() + 1) }
}

/**
 * The usage counter of one quota in one period. It lives with the tokens' counters (a jti-like key),
 * so it is reserved, refunded and pruned by the very same store statements.
 */
export const quotaCounter = (quotaId: string, periodKey: string): string => `quota:${quotaId}:${periodKey}`

/**
 * Counters outlive their period by a day, so a stream that started before midnight and ends after it
 * still finds its counter for the refund; housekeeping prunes them after that.
 */
export const COUNTER_GRACE_MS = 86_400_000
