import { z } from 'zod'

/**
 * What an access token may do. Each grant opens a fixed set of routes and nothing else; a token never
 * reaches `/access-token` or key management whatever its grants.
 */
export const Grants = z.strictObject({
  /** Opens `POST /tts/bytes`, `POST /tts/sse` and `GET /tts/websocket`. */
  tts: z.boolean().nullish(),
  /**
   * Cartesia's speech-to-text grant (SDK 4.2 `grants.stt`). Accepted and recorded so apps written for
   * Cartesia mint their first token; it opens the STT routes once voxgate serves them.
   */
  stt: z.boolean().nullish(),
  /** Cartesia's agent grant (SDK 4.2 `grants.agent`). Accepted and recorded; voxgate has no agent routes. */
  agent: z.boolean().nullish(),
  /** Opens `GET /voices` and `GET /voices/:id` (the grant Cartesia lists as "coming soon"). */
  voices: z.boolean().nullish(),
  /**
   * Opens `POST /voice-changer/bytes` and `/voice-changer/sse` (Cartesia's voice changer, "coming
   * soon" as a token grant there); served only in gateway mode, relayed to the upstream.
   */
  voice_changer: z.boolean().nullish(),
})
export type Grants = z.infer<typeof Grants>
