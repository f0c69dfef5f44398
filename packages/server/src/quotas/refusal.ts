import { VoxgateError } from '@voxgate/protocol'
import type { QuotaCharge, QuotaMeter } from './book.ts'

function scopeOf(charge: QuotaCharge): string {
  const { sub, keyId } = charge.quota
  if (sub !== null && keyId !== null) return "This end-user's quota under this API key"
  if (sub !== null) return "This end-user's quota"
  if (keyId !== null) return "This API key's quota"
  return 'The quota on all use'
}

/**
 * The 429 for a reservation a quota refused (`used`: the counter's usage, in the meter's unit).
 * `Retry-After` runs to the end of the quota's period (UTC): nothing frees room before then.
 */
export function quotaExceeded(charge: QuotaCharge, meter: QuotaMeter, used: number, nowMs: number): VoxgateError {
  const what = meter === 'characters' ? `${charge.limit} characters` : `${charge.limit / 1000} seconds of audio`
  const shown = meter === 'characters' ? used : Math.round(used / 100) / 10
  const retryAfter = Math.max(1, Math.ceil((charge.periodEndMs - nowMs) / 1000))
  return new VoxgateError(
    'quota_exceeded',
    `${scopeOf(charge)} of ${what} per ${charge.quota.period} would be exceeded (${shown} used); it renews at ${new Date(charge.periodEndMs).toISOString()}.`,
    { 'retry-after': String(retryAfter) },
  )
}
