import { z } from 'zod'
import { SUB_MAX_CHARS } from '@voxgate/protocol'
import type { Store, UsageRow } from '../store/types.ts'
import { utcDay } from './usage-delta.ts'

/** How a usage report may be grouped (combinable: `day,sub`). */
export const GROUPS = ['day', 'sub', 'key'] as const
export type UsageGroup = (typeof GROUPS)[number]
/** The longest span one report covers, in days. */
export const USAGE_MAX_DAYS = 366

const DATE = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a UTC date, YYYY-MM-DD')
  .refine((d) => !Number.isNaN(Date.parse(`${d}T00:00:00Z`)), 'is not a date')

/** `GET /usage` and `voxgate usage`: the same parameters, validated the same way. */
export const UsageQuery = z.strictObject({
  from: DATE.optional(),
  to: DATE.optional(),
  group_by: z
    .string()
    .default('day')
    .transform((s, ctx) => {
      const groups = s
        .split(',')
        .map((g) => g.trim())
        .filter((g) => g.length > 0)
      const bad = groups.find((g) => !(GROUPS as readonly string[]).includes(g))
      if (bad !== undefined || groups.length === 0)
        ctx.addIssue({ code: 'custom', message: `must be a comma-separated list of ${GROUPS.join(', ')}` })
      return [...new Set(groups)] as UsageGroup[]
    }),
  sub: z.string().min(1).max(SUB_MAX_CHARS).optional(),
  key_id: z.string().min(1).max(128).optional(),
})
export type UsageQuery = z.input<typeof UsageQuery>

export interface UsageFigures {
  characters: number
  audio_seconds_produced: number
  audio_seconds_transcribed: number
  /** Seconds of audio relayed to the voice changer (gateway mode). */
  audio_seconds_voice_changed: number
  /** Of `characters`: spoken by the gateway's offline fallback because the upstream failed. */
  characters_fallback: number
  /** Of `characters`: answered from the TTS cache. */
  characters_cached: number
  streams: number
  /** Streams refused for a known credential, by reason (`quota_exceeded`, `concurrency_limited`, …). */
  refused: Record<string, number>
}

export interface UsageReportRow extends UsageFigures {
  day?: string
  sub?: string | null
  key_id?: string
}

export interface UsageReport {
  from: string
  to: string
  group_by: UsageGroup[]
  data: UsageReportRow[]
  totals: UsageFigures
}

const DAY_MS = 86_400_000
const seconds = (ms: number): number => Math.round(ms) / 1000

/**
 * Reads the ledger for a validated query and groups it: `from`/`to` default to the 30 days up to
 * today (UTC), inclusive; each group is a row, ordered as the ledger is (day, key, sub).
 */
export async function usageReport(
  store: Store,
  query: z.output<typeof UsageQuery>,
  nowMs: number,
): Promise<UsageReport> {
  const to = query.to ?? utcDay(nowMs)
  const from = query.from ?? utcDay(Date.parse(`${to}T00:00:00Z`) - 29 * DAY_MS)
  const span = (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS
  if (span < 0) throw new RangeError('from must not be after to')
  if (span >= USAGE_MAX_DAYS) throw new RangeError(`a report covers at most ${USAGE_MAX_DAYS} days`)
  const rows = await store.queryUsage({ from, to, keyId: query.key_id, sub: query.sub })
  const groups = new Map<string, UsageReportRow>()
  const totals: UsageFigures = {
    characters: 0,
    audio_seconds_produced: 0,
    audio_seconds_transcribed: 0,
    audio_seconds_voice_changed: 0,
    characters_fallback: 0,
    characters_cached: 0,
    streams: 0,
    refused: {},
  }
  for (const r of rows) {
    const id = JSON.stringify(query.group_by.map((g) => (g === 'day' ? r.day : g === 'sub' ? r.sub : r.keyId)))
    const row =
      groups.get(id) ??
      groups
        .set(id, {
          ...labels(r, query.group_by),
          characters: 0,
          audio_seconds_produced: 0,
          audio_seconds_transcribed: 0,
          audio_seconds_voice_changed: 0,
          characters_fallback: 0,
          characters_cached: 0,
          streams: 0,
          refused: {},
        })
        .get(id)!
    add(row, r)
    add(totals, r)
  }
  return { from, to, group_by: query.group_by, data: [...groups.values()], totals: round(totals) }
}

function labels(r: UsageRow, groups: readonly UsageGroup[]): Partial<UsageReportRow> {
  return {
    ...(groups.includes('day') && { day: r.day }),
    ...(groups.includes('key') && { key_id: r.keyId }),
    ...(groups.includes('sub') && { sub: r.sub }),
  }
}

function add(into: UsageFigures, r: UsageRow): void {
  into.characters += r.characters
  into.audio_seconds_produced = round1(into.audio_seconds_produced + seconds(r.audioMsProduced))
  into.audio_seconds_transcribed = round1(into.audio_seconds_transcribed + seconds(r.audioMsTranscribed))
  into.audio_seconds_voice_changed = round1(into.audio_seconds_voice_changed + seconds(r.audioMsVoiceChanged ?? 0))
  into.characters_fallback += r.charactersFallback ?? 0
  into.characters_cached += r.charactersCached ?? 0
  into.streams += r.streams
  for (const [reason, n] of Object.entries(r.refused)) into.refused[reason] = (into.refused[reason] ?? 0) + n
}

const round1 = (s: number): number => Math.round(s * 1000) / 1000
const round = (f: UsageFigures): UsageFigures => ({
  ...f,
  audio_seconds_produced: round1(f.audio_seconds_produced),
  audio_seconds_transcribed: round1(f.audio_seconds_transcribed),
  audio_seconds_voice_changed: round1(f.audio_seconds_voice_changed),
})
