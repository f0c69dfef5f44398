import { z } from 'zod'
import { Grants } from './grants.ts'
import {
  LIMIT_AUDIO_SECONDS_MAX,
  LIMIT_CHARACTERS_MAX,
  LIMIT_CONCURRENT_STREAMS_MAX,
  LIMIT_ORIGINS_MAX,
  LIMIT_VOICES_MAX,
  SUB_MAX_CHARS,
  TOKEN_TTL_MAX_SECONDS,
  TOKEN_TTL_MIN_SECONDS,
} from './limits.ts'
import { ORIGIN_PATTERN } from './origin.ts'

/**
 * voxgate's per-token limits (not in Cartesia's API). All optional; a token without limits is
 * bounded only by its key's rate limits.
 */
export const TokenLimits = z.strictObject({
  /** Total transcript characters the token may synthesize over its life. */
  characters: z.number().int().min(1).max(LIMIT_CHARACTERS_MAX).optional(),
  /** Seconds of audio the token may have transcribed over its life (received audio, silence included). */
  audio_seconds: z.number().int().min(1).max(LIMIT_AUDIO_SECONDS_MAX).optional(),
  /** Streams the token may hold open at once: TTS requests and WebSocket contexts, STT sockets and uploads. */
  concurrent_streams: z.number().int().min(1).max(LIMIT_CONCURRENT_STREAMS_MAX).optional(),
  /** Voice ids the token may use. */
  voices: z.array(z.string().min(1).max(128)).min(1).max(LIMIT_VOICES_MAX).optional(),
  /** `Origin` values (scheme://host[:port]) the token may be used from. */
  origins: z
    .array(z.string().regex(ORIGIN_PATTERN, 'must be an origin such as https://app.example.com'))
    .min(1)
    .max(LIMIT_ORIGINS_MAX)
    .optional(),
})
export type TokenLimits = z.infer<typeof TokenLimits>

/** `POST /access-token` body (PROTOCOL.md §2), plus voxgate's optional `sub` and `limits`. */
export const AccessTokenRequest = z.strictObject({
  grants: Grants.nullish(),
  expires_in: z.number().int().min(TOKEN_TTL_MIN_SECONDS).max(TOKEN_TTL_MAX_SECONDS).nullish(),
  sub: z.string().min(1).max(SUB_MAX_CHARS).optional(),
  limits: TokenLimits.optional(),
})
export type AccessTokenRequest = z.infer<typeof AccessTokenRequest>

export interface AccessTokenResponse {
  token: string
}
