import type { ErrorCode } from '@voxgate/protocol'
import { SttBatchFields } from '@voxgate/protocol/schemas'
import { OpenAiSpeechRequest } from './speech-request.ts'
import type { RouteDoc } from '../http/route-doc.ts'

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

const TRANSCRIPTION_ERRORS: ErrorCode[] = [
  'invalid_request',
  'model_not_found',
  'unsupported_audio_format',
  'quota_exceeded',
  'concurrency_limited',
  'limits_unavailable',
  'server_busy',
  'stt_unavailable',
  'connection_closing',
]

/** OpenAI's routes; on `/v1/*` every error has OpenAI's shape `{error: {message, type, param, code}}`. */
export const OPENAI_DOCS: readonly RouteDoc[] = [
  speech('/v1/audio/speech', "OpenAI's `{error: {message, type, param, code}}`"),
  speech('/audio/speech', "Cartesia's"),
  {
    method: 'post',
    path: '/v1/audio/transcriptions',
    summary:
      "OpenAI's transcription API: as `POST /audio/transcriptions`, with errors in OpenAI's `{error: {message, type, param, code}}` shape",
    tag: 'openai',
    access: { grant: 'stt' },
    body: { schema: SttBatchFields, name: 'SttBatchFields', multipart: true },
    ok: {
      status: 200,
      type: 'application/json',
      description:
        '`response_format` json (the default), verbose_json, text, srt or vtt; with `stream=true` `transcript.text.delta` events and one `transcript.text.done`',
    },
    errors: TRANSCRIPTION_ERRORS,
  },
  {
    method: 'get',
    path: '/v1/models',
    summary: "The speech and transcription models, in OpenAI's list shape",
    tag: 'openai',
    access: 'any',
    ok: {
      status: 200,
      type: 'application/json',
      description: '`{object: "list", data: [{id, object: "model", created, owned_by}]}`',
    },
    errors: [],
  },
]
