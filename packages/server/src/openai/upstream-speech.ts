import type { FfmpegAac } from '../context.ts'
import { API_VERSION, VoxgateError } from '@voxgate/protocol'
import type { TranslatedTts } from '../gateway/tts-relay.ts'
import type { RelayedTtsRequest } from '../gateway/tts-request.ts'
import { OPENAI_SPEECH_MODELS } from './models.ts'
import type { SpeechFormat } from './speech-formats.ts'
import { speechOutput, type SpeechOutputOptions } from './speech-output.ts'
import { engineSpeed, type OpenAiSpeechRequest } from './speech-request.ts'
import { OPENAI_VOICE_NAMES } from './voices.ts'

/** The upstream model OpenAI's speech models stand for in gateway mode: Cartesia's current one. */
export const UPSTREAM_SPEECH_MODEL = 'sonic-3'

export interface UpstreamSpeech {
  body: OpenAiSpeechRequest
  format: SpeechFormat
  characters: number
  /** `--openai-voice-map`: OpenAI name → upstream voice id. */
  voiceMap: ReadonlyMap<string, string> | undefined
  ffmpeg: FfmpegAac | undefined
  log: SpeechOutputOptions['log']
}

/**
 * OpenAI's speech request as the upstream's `/tts/bytes` (Cartesia has no `/audio/speech`): the
 * voice through the voice map, OpenAI's models as UPSTREAM_SPEECH_MODEL (any other model id as
 * sent), the format the upstream makes itself (MP3, WAV, PCM) or PCM for voxgate to encode, the
 * speed clamped as for local speech. Returns what the relay checks and what it sends.
 */
export function toUpstreamSpeech(s: UpstreamSpeech): { checked: RelayedTtsRequest; translated: TranslatedTts } {
  const voice = upstreamVoiceOf(s.body.voice, s.voiceMap)
  const model = (OPENAI_SPEECH_MODELS as readonly string[]).includes(s.body.model)
    ? UPSTREAM_SPEECH_MODEL
    : s.body.model
  const speed = engineSpeed(s.body.speed)
  const body = {
    model_id: model,
    transcript: s.body.input,
    voice: { mode: 'id', id: voice },
    output_format: s.format.outputFormat,
    ...(speed !== undefined && { generation_config: { speed } }),
  }
  return {
    checked: { transcript: body.transcript, voice, output_format: { ...s.format.outputFormat } },
    translated: {
      body,
      cartesiaVersion: API_VERSION,
      output: speechOutput({
        format: s.format,
        sse: s.body.stream_format === 'sse',
        characters: s.characters,
        ffmpeg: s.ffmpeg,
        log: s.log,
      }),
    },
  }
}

/**
 * The upstream voice an OpenAI `voice` names: a mapped OpenAI name, else the value itself as an
 * upstream id. An OpenAI name the map leaves out is refused: it is no upstream voice, and passing
 * it on would only earn the upstream's own 404 for a request that was the operator's to map.
 */
function upstreamVoiceOf(voice: string, voiceMap: ReadonlyMap<string, string> | undefined): string {
  const mapped = voiceMap?.get(voice)
  if (mapped) return mapped
  if (OPENAI_VOICE_NAMES.includes(voice))
    throw new VoxgateError(
      'invalid_request',
      `voice: "${voice}" is an OpenAI voice this server does not map to an upstream voice; its operator maps it with --openai-voice-map, or send an upstream voice id.`,
    )
  return voice
}
