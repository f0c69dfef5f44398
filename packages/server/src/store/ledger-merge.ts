import type { UsageDelta, UsageRow } from './usage.ts'

/** A refusal count as stores read it. */
export interface RefusalCount {
  day: string
  keyId: string
  sub: string | null
  reason: string
  count: number
}

/**
 * Joins the ledger's figures and its refusal counts into one row per day, key and sub (a row may
 * have only refusals), ordered by day, key, sub. Shared by every store, so they answer alike.
 */
export function mergeLedger(figures: readonly UsageDelta[], refusals: readonly RefusalCount[]): UsageRow[] {
  const rows = new Map<string, UsageRow>()
  const id = (r: { day: string; keyId: string; sub: string | null }) => JSON.stringify([r.day, r.keyId, r.sub ?? ''])
  for (const f of figures) rows.set(id(f), { ...f, refused: {} })
  for (const r of refusals) {
    const row =
      rows.get(id(r)) ??
      rows
        .set(id(r), {
          day: r.day,
          keyId: r.keyId,
          sub: r.sub,
          characters: 0,
          audioMsProduced: 0,
          audioMsTranscribed: 0,
          audioMsVoiceChanged: 0,
          charactersFallback: 0,
          charactersCached: 0,
          streams: 0,
          refused: {},
        })
        .get(id(r))!
    row.refused[r.reason] = (row.refused[r.reason] ?? 0) + r.count
  }
  const order = (r: UsageRow) => `${r.day}\u0000${r.keyId}\u0000${r.sub ?? ''}`
  return [...rows.values()].sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0))
}
