import { z } from 'zod'
import {
  countCharacters,
  OPENAI_SPEECH_INPUT_MAX_CHARS,
  OPENAI_SPEED_MAX,
  OPENAI_SPEED_MIN,
  VoxgateError,
  type TtsBytesRequest,
} from '@voxgate/protocol'
import { VoiceSpecifier } from '@voxgate/protocol/schemas'
import { speechModelOf } from './models.ts'
import { voiceIdOf } from './voices.ts'

/** The speed range `generation_config.speed` (and so the engines) take: OpenAI's wider range is clamped into it. */
const ENGINE_SPEED_MIN = 0.6
const ENGINE_SPEED_MAX = 1.5

/**
 * OpenAI's `POST /v1/audio/speech` body. `response_format` is any short string here so that an
 * unknown one is refused naming the formats voxgate makes; `instructions` is taken and has no effect.
 */
export const OpenAiSpeechRequest = z.object({
  model: z.string().min(1).max(128),
  input: z.string(),
  voice: VoiceSpecifier,
  response_format: z.string().max(16).default('mp3'),
  speed: z.number().min(OPENAI_SPEED_MIN).max(OPENAI_SPEED_MAX).optional(),
  instructions: z.string().max(OPENAI_SPEECH_INPUT_MAX_CHARS).optional(),
  stream_format: z.enum(['audio', 'sse']).default('audio'),
})
export type OpenAiSpeechRequest = z.infer<typeof OpenAiSpeechRequest>

/** OpenAI's bound on `input`, counted as budgets count (code points, markup excluded). */
export function checkInputLength(input: string): number {
  const characters = countCharacters(input)
  if (characters > OPENAI_SPEECH_INPUT_MAX_CHARS) {
    throw new VoxgateError('transcript_too_long', `input is longer than ${OPENAI_SPEECH_INPUT_MAX_CHARS} characters.`)
  }
  return characters
}

/** The same request in Cartesia's `/tts/bytes` shape, so it takes exactly that route's path. */
export function toBytesRequest(
  body: OpenAiSpeechRequest,
  outputFormat: TtsBytesRequest['output_format'],
): TtsBytesRequest {
  return {
    model_id: speechModelOf(body.model),
    transcript: body.input,
    voice: voiceIdOf(body.voice),
    output_format: outputFormat,
    ...(body.speed !== undefined && { generation_config: { speed: engineSpeed(body.speed) } }),
  }
}

/** OpenAI's speed clamped to what the engines (and Cartesia's `generation_config.speed`) take. */
export function engineSpeed<T extends number | undefined>(speed: T): T {
  return (speed === undefined ? undefined : Math.min(ENGINE_SPEED_MAX, Math.max(ENGINE_SPEED_MIN, speed))) as T
}
