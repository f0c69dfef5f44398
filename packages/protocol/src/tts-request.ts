import { z } from 'zod'

import { CREDENTIAL_MAX_CHARS, MP3_BIT_RATES, SAMPLE_RATE_MAX, SAMPLE_RATE_MIN } from './limits.ts'

export const RawEncoding = z.enum(['pcm_f32le', 'pcm_s16le', 'pcm_mulaw', 'pcm_alaw'])
export type RawEncoding = z.infer<typeof RawEncoding>

const SampleRate = z.number().int().min(SAMPLE_RATE_MIN).max(SAMPLE_RATE_MAX)

export const RawFormat = z.object({ container: z.literal('raw'), encoding: RawEncoding, sample_rate: SampleRate })
export const WavFormat = z.object({ container: z.literal('wav'), encoding: RawEncoding, sample_rate: SampleRate })
export const Mp3Format = z.object({
  container: z.literal('mp3'),
  sample_rate: SampleRate,
  bit_rate: z
    .number()
    .int()
    .refine(
      (v) => (MP3_BIT_RATES as readonly number[]).includes(v),
      `bit_rate must be one of ${MP3_BIT_RATES.join(', ')}`,
    )
    .default(128000),
})
export const OutputFormat = z.discriminatedUnion('container', [RawFormat, WavFormat, Mp3Format])
export type OutputFormat = z.infer<typeof OutputFormat>
export type RawOutputFormat = z.infer<typeof RawFormat>

/**
 * Every voice shape any Cartesia client sends (PROTOCOL.md §4.1): a bare id, `{id}`, or
 * `{mode: "id", id}`. Embeddings are refused with a clear message rather than ignored.
 */
export const VoiceSpecifier = z
  .union([z.string().min(1).max(128), z.object({ mode: z.literal('id').optional(), id: z.string().min(1).max(128) })])
  .transform((v) => (typeof v === 'string' ? v : v.id))

const GenerationConfig = z.object({
  volume: z.number().min(0.5).max(2).optional(),
  speed: z.number().min(0.6).max(1.5).optional(),
  emotion: z.string().max(64).optional(),
})

/** Fields shared by every TTS request. Unknown fields are ignored so newer clients keep working. */
const TtsCommon = {
  model_id: z.string().min(1).max(128),
  transcript: z.string(),
  voice: VoiceSpecifier,
  language: z.string().min(2).max(16).optional(),
  locale: z.string().min(2).max(16).optional(),
  generation_config: GenerationConfig.optional(),
  speed: z.union([z.enum(['slowest', 'slow', 'normal', 'fast', 'fastest']), z.number().min(-1).max(1)]).optional(),
  duration: z.number().positive().optional(),
  pronunciation_dict_id: z.string().max(128).optional(),
  normalization: z.string().max(16).optional(),
}

/** `POST /tts/bytes` (§4). */
export const TtsBytesRequest = z.object({ ...TtsCommon, output_format: OutputFormat, save: z.boolean().optional() })
export type TtsBytesRequest = z.infer<typeof TtsBytesRequest>

const StreamExtras = {
  add_timestamps: z.boolean().optional(),
  add_phoneme_timestamps: z.boolean().optional(),
  use_normalized_timestamps: z.boolean().optional(),
}

/** `POST /tts/sse` (§5): raw output only. */
export const TtsSseRequest = z.object({
  ...TtsCommon,
  ...StreamExtras,
  output_format: RawFormat,
  context_id: z.string().min(1).max(256).optional(),
})
export type TtsSseRequest = z.infer<typeof TtsSseRequest>

/** A generation request on `/tts/websocket` (§6.2). */
export const WsGenerationRequest = z.object({
  ...TtsCommon,
  ...StreamExtras,
  output_format: RawFormat,
  context_id: z.string().min(1).max(256),
  continue: z.boolean().optional(),
  flush: z.boolean().optional(),
  max_buffer_delay_ms: z.number().int().min(0).max(5000).optional(),
})
export type WsGenerationRequest = z.infer<typeof WsGenerationRequest>

/** `{"context_id", "cancel": true}` on `/tts/websocket`. */
export const WsCancelRequest = z.object({ context_id: z.string().min(1).max(256), cancel: z.literal(true) })
export type WsCancelRequest = z.infer<typeof WsCancelRequest>

/** voxgate extension: extend a long-lived socket with a fresh token, checked like a new connection. */
export const WsRefreshToken = z.object({
  type: z.literal('refresh_token'),
  access_token: z.string().min(1).max(CREDENTIAL_MAX_CHARS),
})
export type WsRefreshToken = z.infer<typeof WsRefreshToken>
