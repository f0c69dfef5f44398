import { z } from 'zod'

/**
 * What an access token may do. Each grant opens a fixed set of routes and nothing else; a token never
 * reaches `/access-token` or key management whatever its grants.
 */
export const Grants = z.strictObject({
  /** Opens `POST /tts/bytes`, `POST /tts/sse` and `GET /tts/websocket`. */
  tts: z.boolean().nullish(),
  /** Opens `GET /voices` and `GET /voices/:id` (the grant Cartesia lists as "coming soon"). */
  voices: z.boolean().nullish(),
})
export type Grants = z.infer<typeof Grants>

export type GrantName = 'tts' | 'voices'
export const GRANT_NAMES: readonly GrantName[] = ['tts', 'voices']

/** Token lifetime bounds in seconds (Cartesia: max 3600). */
export const TOKEN_TTL_MIN_SECONDS = 1
export const TOKEN_TTL_MAX_SECONDS = 3600
export const TOKEN_TTL_DEFAULT_SECONDS = 60
