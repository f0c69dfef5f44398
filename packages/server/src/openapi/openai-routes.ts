import type { ErrorCode } from '@voxgate/protocol'
import { OpenAiSpeechRequest } from '../openai/speech-request.ts'
import type { RouteDoc } from './routes.ts'

const SPEECH_ERRORS: ErrorCode[] = [
  'invalid_request',
  'model_not_found',
  'voice_not_found',
  'voice_not_allowed',
  'transcript_too_long',
  'unsupported_output_format',
  'quota_exceeded',
  'concurrency_limited',
  'rate_limited',
  'limits_unavailable',
  'connection_closing',
]

const speech = (path: string, shape: string): RouteDoc => ({
  method: 'post',
  path,
  summary: `OpenAI's speech API: \`/tts/bytes\` in OpenAI's request shape; errors in ${shape} shape`,
  tag: 'openai',
  access: { grant: 'tts' },
  body: { schema: OpenAiSpeechRequest, name: 'OpenAiSpeechRequest' },
  ok: {
    status: 200,
    type: 'application/octet-stream',
    description:
      'Audio in `response_format` (mp3, wav, pcm, opus, flac), or with `stream_format: "sse"` `speech.audio.delta` events and one `speech.audio.done`',
  },
  errors: SPEECH_ERRORS,
})

/** OpenAI's routes; on `/v1/*` every error has OpenAI's shape `{error: {message, type, param, code}}`. */
export const OPENAI_ROUTES: readonly RouteDoc[] = [
  speech('/v1/audio/speech', "OpenAI's `{error: {message, type, param, code}}`"),
  speech('/audio/speech', "Cartesia's"),
]
