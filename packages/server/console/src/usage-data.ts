import { api } from './api.ts'
import type { Series } from './chart.ts'

export interface UsageRow {
  day?: string
  sub?: string | null
  key_id?: string
  characters: number
  audio_seconds_produced: number
  audio_seconds_transcribed: number
  streams: number
}
export interface UsageReport {
  from: string
  to: string
  data: UsageRow[]
  totals: UsageRow
}

export type Measure = 'characters' | 'audio_seconds_produced' | 'audio_seconds_transcribed'

export const usageReport = (from: string, to: string, groupBy: string) =>
  api<UsageReport>('GET', `/usage?${new URLSearchParams({ from, to, group_by: groupBy })}`)

/** Every day from `from` to `to`, inclusive. */
export function daysBetween(from: string, to: string): string[] {
  const out: string[] = []
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += 86_400_000)
    out.push(new Date(t).toISOString().slice(0, 10))
  return out
}

/**
 * Rows grouped by day and `by` (key or sub) as series per day: the top `top` groups by total, the
 * rest summed as "others".
 */
export function seriesOf(
  report: UsageReport,
  measure: Measure,
  by: 'key_id' | 'sub' | null,
  top = 10,
): { days: string[]; series: Series[] } {
  const days = daysBetween(report.from, report.to)
  const index = new Map(days.map((d, i) => [d, i]))
  const groups = new Map<string, number[]>()
  for (const row of report.data) {
    const name = by === null ? 'all' : by === 'sub' ? (row.sub ?? '(no sub)') : (row.key_id ?? '?')
    const values = groups.get(name) ?? days.map(() => 0)
    const i = index.get(row.day ?? '')
    if (i !== undefined) values[i]! += row[measure]
    groups.set(name, values)
  }
  const total = (v: number[]) => v.reduce((a, b) => a + b, 0)
  const sorted = [...groups.entries()].sort((a, b) => total(b[1]) - total(a[1]))
  const series = sorted.slice(0, top).map(([label, values]) => ({ label, values }))
  if (sorted.length > top) {
    const others = days.map((_, i) => sorted.slice(top).reduce((n, [, v]) => n + v[i]!, 0))
    series.push({ label: 'others', values: others })
  }
  return { days, series }
}
