import { z } from 'zod'
import { VOICES_LIMIT_DEFAULT, VOICES_LIMIT_MAX } from './limits.ts'

/** A voice in Cartesia's shape (PROTOCOL.md §7), a superset of every version's fields. */
export interface Voice {
  id: string
  name: string
  description: string
  language: string
  locales: { locale: string; is_native: boolean }[]
  gender: 'masculine' | 'feminine' | 'gender_neutral' | null
  created_at: string
  is_owner: boolean
  is_public: boolean
  access: 'public'
  visibility: 'all'
  tagline: string
  country: string | null
}

export interface VoicePage {
  data: Voice[]
  has_more: boolean
  next_page: string | null
}

/**
 * The syntax of a voice id: Cartesia's are UUIDs (`a0e99841-438c-4a64-b679-ae501e7d6091`), voxgate's
 * too, and gateways are often given readable ids (`upstream-voice-1`); 1–128 letters, digits, `-` and
 * `_`. Nothing else (no `.`, `/`, `%` or space) can be a path segment's worth of surprise.
 */
export const VOICE_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/

/** `GET /voices` query. Unknown parameters (`expand[]`, `is_owner`, ...) are accepted and ignored. */
export const VoicesQuery = z.object({
  limit: z.coerce.number().int().min(1).max(VOICES_LIMIT_MAX).default(VOICES_LIMIT_DEFAULT),
  starting_after: z.string().max(128).optional(),
  ending_before: z.string().max(128).optional(),
  q: z.string().max(256).optional(),
  language: z.string().max(16).optional(),
  gender: z.enum(['masculine', 'feminine', 'gender_neutral']).optional(),
})
export type VoicesQuery = z.infer<typeof VoicesQuery>
