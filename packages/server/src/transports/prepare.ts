import {
  countCharacters,
  type MarkupRule,
  TRANSCRIPT_MAX_CHARS,
  VoxgateError,
  type OutputFormat,
  type TtsSseRequest,
} from '@voxgate/protocol'
import type { Principal } from '../auth/principal.ts'
import type { SpeechParts } from '../context.ts'
import type { SynthesisRequest } from '../tts/types.ts'

/** The fields every transport's request shares, after schema validation. */
export type SpeechFields = Pick<
  TtsSseRequest,
  'model_id' | 'voice' | 'language' | 'locale' | 'generation_config' | 'speed' | 'pronunciation_dict_id'
> & {
  output_format: OutputFormat
}

const SPEED_WORDS = { slowest: 0.6, slow: 0.8, normal: 1, fast: 1.25, fastest: 1.5 } as const

/** Cartesia has three ways to say speed; the engines take one multiplier. */
export function speedOf(fields: Pick<SpeechFields, 'generation_config' | 'speed'>): number {
  if (fields.generation_config?.speed !== undefined) return fields.generation_config.speed
  const s = fields.speed
  if (s === undefined) return 1
  return typeof s === 'string' ? SPEED_WORDS[s] : Math.min(1.5, Math.max(0.6, 1 + s / 2))
}

/**
 * Checks what a TTS request asks for against the server and the caller's token, in the order a
 * client can act on: what cannot be honoured (both `language` and `locale`, a pronunciation
 * dictionary), model, voice, the token's voice allowlist. Returns the engine-facing request.
 */
export function checkSpeechRequest(
  ctx: SpeechParts,
  principal: Principal,
  fields: SpeechFields,
  options: { voiceAllowed?: boolean } = {},
): Omit<SynthesisRequest, 'text'> {
  if (fields.language !== undefined && fields.locale !== undefined) {
    throw new VoxgateError('invalid_request', 'Invalid request body: locale: set language or locale, not both.')
  }
  if (fields.pronunciation_dict_id !== undefined) {
    throw new VoxgateError(
      'pronunciation_dict_not_found',
      'pronunciation_dict_id: voxgate has no pronunciation dictionaries; leave the field out.',
    )
  }
  if (!ctx.speech.resolveModel(fields.model_id)) {
    throw new VoxgateError('model_not_found', 'Unknown model_id; GET / lists none, use sonic-3 or a voxgate-* model.')
  }
  if (!ctx.speech.voices.get(fields.voice)) throw new VoxgateError('voice_not_found', 'No voice has this id.')
  // A fallback's voice was chosen by the gateway for an upstream voice the token was checked for.
  const allowed = principal.kind === 'token' && !options.voiceAllowed ? principal.limits?.voices : undefined
  if (allowed && !allowed.includes(fields.voice)) {
    throw new VoxgateError('voice_not_allowed', 'This access token may not use this voice.')
  }
  return {
    voiceId: fields.voice,
    outputFormat: fields.output_format,
    speed: speedOf(fields),
    ...(fields.generation_config?.volume !== undefined && { volume: fields.generation_config.volume }),
    ...(fields.language !== undefined && { language: fields.language }),
    ...(fields.locale !== undefined && { locale: fields.locale }),
  }
}

/** The request limit counts characters as budgets do: code points, markup (as `markup` reads it) excluded. */
export function checkTranscriptLength(text: string, markup: MarkupRule = 'any'): void {
  if (text.length > TRANSCRIPT_MAX_CHARS && countCharacters(text, markup) > TRANSCRIPT_MAX_CHARS) {
    throw new VoxgateError('transcript_too_long', `The transcript is longer than ${TRANSCRIPT_MAX_CHARS} characters.`)
  }
}
