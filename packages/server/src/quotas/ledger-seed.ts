import type { QuotaRecord, Store } from '../store/types.ts'
import { utcDay } from '../usage/usage-delta.ts'
import { COUNTER_GRACE_MS, periodOf, quotaCounter } from './period.ts'

/**
 * Brings a quota's counters for the current period up to what the usage ledger holds for its scope,
 * so its `used` is never below the ledger: when the quota is set (the morning counts against a
 * quota set at noon), and when an instance first sees it (what another instance served before it
 * learnt of the quota is in the ledger, not in the counter). Counters only grow, to the larger of the
 * two, so running it again, or on every instance, charges nothing twice. (A counter is never below
 * the ledger otherwise: characters are reserved before they are spoken, and only the unspoken ones
 * are given back.)
 */
export async function alignWithLedger(store: Store, quota: QuotaRecord, nowMs: number): Promise<void> {
  if (quota.characters === null && quota.audioSeconds === null) return
  const span = periodOf(quota.period, nowMs)
  const rows = await store.queryUsage({
    from: utcDay(span.startMs),
    to: utcDay(nowMs),
    keyId: quota.keyId ?? undefined,
    sub: quota.sub ?? undefined,
  })
  const key = quotaCounter(quota.id, span.key)
  const expiresAt = span.endMs + COUNTER_GRACE_MS
  if (quota.characters !== null) {
    const gap = rows.reduce((n, r) => n + r.characters, 0) - (await store.usedCharacters(key))
    if (gap > 0) await store.reserveCharacters(key, gap, undefined, expiresAt)
  }
  if (quota.audioSeconds !== null) {
    const ledgerMs = Math.round(rows.reduce((n, r) => n + r.audioMsTranscribed, 0))
    const gap = ledgerMs - (await store.usedAudio(key))
    if (gap > 0) await store.reserveAudio(key, gap, undefined, expiresAt)
  }
}
