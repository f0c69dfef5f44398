import { z } from 'zod'
import {
  STT_ENCODINGS,
  STT_KEYTERM_CHARS_MAX,
  STT_KEYTERMS_MAX,
  STT_SAMPLE_RATE_MAX,
  STT_SAMPLE_RATE_MIN,
} from './stt-events.ts'

export const SttEncoding = z.enum(STT_ENCODINGS)

/** Query values arrive as strings; a repeated parameter as an array. */
const intFromQuery = (min: number, max: number) => z.coerce.number().int().min(min).max(max)
const numberFromQuery = (min: number, max: number) => z.coerce.number().min(min).max(max)

/** English only: the offline recogniser has one acoustic model (PocketSphinx en-us). */
export const SttLanguage = z.string().regex(/^en([-_][A-Za-z]{2})?$/, 'only English (en) is recognised')

const keyterms = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => (Array.isArray(v) ? v : [v]))
  .pipe(z.array(z.string().max(STT_KEYTERM_CHARS_MAX)).max(STT_KEYTERMS_MAX))
  .refine(
    (terms) => terms.join('').length <= STT_KEYTERM_CHARS_MAX,
    `at most ${STT_KEYTERM_CHARS_MAX} characters of keyterms`,
  )

/** The audio half of both STT WebSockets' query: what the binary frames carry. */
const AudioQuery = {
  model: z.string().min(1).max(128),
  encoding: SttEncoding,
  sample_rate: intFromQuery(STT_SAMPLE_RATE_MIN, STT_SAMPLE_RATE_MAX),
  language: SttLanguage.optional(),
  /** Accepted and ignored: PocketSphinx 5prealpha has no keyword biasing. */
  keyterm: keyterms.optional(),
}

/**
 * `GET /stt/websocket` (SDK `ManualFinalizeWSParameters`). Unknown parameters (`cartesia_version`,
 * `cartesia_client`, credentials) are not this schema's business and pass.
 */
export const SttWebSocketQuery = z.object({
  ...AudioQuery,
  /** ink-whisper only in Cartesia; accepted and ignored here. */
  max_silence_duration_secs: numberFromQuery(0, 3600).optional(),
  min_volume: numberFromQuery(0, 1).optional(),
})
export type SttWebSocketQuery = z.infer<typeof SttWebSocketQuery>

/** Turn-detection settings (`/stt/turns/websocket` query `turn_*`, or a `config` command's `turn`). */
export const TurnSettings = z.strictObject({
  start_threshold: z.number().min(0.5).max(0.9).optional(),
  eager_end_threshold: z.number().min(0.3).max(0.6).optional(),
  end_threshold: z.number().min(0.05).max(0.5).optional(),
  end_timeout_ms: z.number().int().min(640).max(11200).optional(),
})
export type TurnSettings = z.infer<typeof TurnSettings>

/** `GET /stt/turns/websocket` (SDK `client.stt.autoFinalize.websocket`). */
export const SttTurnsQuery = z.object({
  ...AudioQuery,
  turn_start_threshold: numberFromQuery(0.5, 0.9).optional(),
  turn_eager_end_threshold: numberFromQuery(0.3, 0.6).optional(),
  turn_end_threshold: numberFromQuery(0.05, 0.5).optional(),
  turn_end_timeout_ms: intFromQuery(640, 11200).optional(),
})
export type SttTurnsQuery = z.infer<typeof SttTurnsQuery>

/** A JSON command on `/stt/turns/websocket`. */
export const SttTurnsCommand = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('close') }),
  z.strictObject({ type: z.literal('config'), turn: TurnSettings }),
])
export type SttTurnsCommand = z.infer<typeof SttTurnsCommand>

/**
 * The text fields of `POST /stt` and `POST /audio/transcriptions` (multipart), plus the query
 * (`encoding`, `sample_rate`) that describes headerless PCM. OpenAI's `response_format`, `prompt` and
 * `temperature` are accepted and ignored: the answer is always JSON.
 */
export const SttBatchFields = z.object({
  model: z.string({ error: 'model is required' }).min(1).max(128),
  language: SttLanguage.optional(),
  timestamp_granularities: z
    .array(z.enum(['word', 'segment']))
    .max(2)
    .optional(),
  encoding: SttEncoding.optional(),
  sample_rate: intFromQuery(STT_SAMPLE_RATE_MIN, STT_SAMPLE_RATE_MAX).optional(),
})
export type SttBatchFields = z.infer<typeof SttBatchFields>
