import { z } from 'zod'
import { SUB_MAX_CHARS } from '@voxgate/protocol'
import { MAX_ALERT_THRESHOLDS } from './thresholds.ts'

/** Quotas one deployment may hold: each request looks up its own in memory, and every instance keeps them all. */
export const MAX_QUOTAS = 10_000
/** The largest caps accepted (beyond any real use, within a 64-bit counter of ms). */
export const QUOTA_MAX_CHARACTERS = 1_000_000_000_000
export const QUOTA_MAX_AUDIO_SECONDS = 1_000_000_000

/** `PUT /quotas` and `voxgate quotas set`: validated the same way. */
export const QuotaPut = z
  .strictObject({
    /** The end-user it caps; absent: any. */
    sub: z.string().min(1).max(SUB_MAX_CHARS).optional(),
    /** The API key it caps (its id, `key_…`); absent: any. */
    key_id: z.string().min(1).max(128).optional(),
    period: z.enum(['day', 'month']),
    characters: z.number().int().min(0).max(QUOTA_MAX_CHARACTERS).optional(),
    audio_seconds: z.number().int().min(0).max(QUOTA_MAX_AUDIO_SECONDS).optional(),
    /** Fractions of each cap whose crossing fires a `quota.threshold` webhook event; absent: 0.8 and 1. */
    alert_at: z
      .array(z.number().gt(0).max(1))
      .min(1)
      .max(MAX_ALERT_THRESHOLDS)
      .transform((a) => [...new Set(a)].sort((x, y) => x - y))
      .optional(),
  })
  .refine((q) => q.characters !== undefined || q.audio_seconds !== undefined, {
    message: 'set characters, audio_seconds or both',
    path: ['characters'],
  })
export type QuotaPut = z.output<typeof QuotaPut>

/** A quota as `GET /quotas` shows it, with what has been used in the current period. */
export interface QuotaView {
  id: string
  sub: string | null
  key_id: string | null
  period: 'day' | 'month'
  characters: number | null
  audio_seconds: number | null
  /** The thresholds that fire `quota.threshold` webhook events. */
  alert_at: number[]
  created_at: string
  /** When the current period ends (UTC): usage starts again from zero then. */
  period_ends: string
  /** Used in the current period, for each cap set (null where there is no cap, so nothing is counted). */
  used: { characters: number | null; audio_seconds: number | null }
}
