import type { ErrorCode } from '@voxgate/protocol'
import { SttBatchFields, SttTurnsCommand, SttTurnsQuery, SttWebSocketQuery } from '@voxgate/protocol/schemas'
import { json, UPSTREAM_ERRORS, WS_CLOSE_CODES, WS_UPGRADE, type RouteDoc } from '../http/route-doc.ts'

const STT_ERRORS: ErrorCode[] = [
  'invalid_request',
  'model_not_found',
  'quota_exceeded',
  'concurrency_limited',
  'limits_unavailable',
  'server_busy',
  'stt_unavailable',
  'connection_closing',
  ...UPSTREAM_ERRORS,
]

/** Speech to text: the file routes and the two sockets, local (stt/) or relayed (gateway/) alike. */
export const STT_DOCS: readonly RouteDoc[] = [
  {
    method: 'post',
    path: '/stt',
    summary: 'Transcribe an audio file',
    tag: 'stt',
    access: { grant: 'stt' },
    body: { schema: SttBatchFields, name: 'SttBatchFields', multipart: true },
    ok: json('`{type: "transcript", text, request_id, language, duration, words?}`'),
    errors: [...STT_ERRORS, 'unsupported_audio_format'],
  },
  {
    method: 'post',
    path: '/audio/transcriptions',
    summary: 'Transcribe an audio file (OpenAI path)',
    tag: 'stt',
    access: { grant: 'stt' },
    body: { schema: SttBatchFields, name: 'SttBatchFields', multipart: true },
    ok: json(
      "As `POST /stt`; OpenAI's `response_format` (text, verbose_json, srt, vtt) and `stream=true` are honoured (gateway mode relays the upstream's JSON)",
    ),
    errors: [...STT_ERRORS, 'unsupported_audio_format'],
  },
  {
    method: 'get',
    path: '/stt/websocket',
    summary: 'Streaming speech recognition (manual finalize)',
    tag: 'stt',
    access: { grant: 'stt' },
    query: SttWebSocketQuery,
    ok: { status: 101, type: '', description: WS_UPGRADE },
    errors: STT_ERRORS,
    websocket: {
      client: {},
      binary: "audio in the query's encoding and sample_rate; text commands `finalize`, `close` (or `done`)",
      server: ['transcript', 'flush_done', 'done', 'error'],
      closeCodes: { ...WS_CLOSE_CODES, 1011: 'the recogniser failed' },
    },
  },
  {
    method: 'get',
    path: '/stt/turns/websocket',
    summary: 'Streaming speech recognition with turn detection',
    tag: 'stt',
    access: { grant: 'stt' },
    query: SttTurnsQuery,
    ok: { status: 101, type: '', description: WS_UPGRADE },
    errors: STT_ERRORS,
    websocket: {
      client: { SttTurnsCommand },
      binary: "audio in the query's encoding and sample_rate",
      server: ['connected', 'turn.start', 'turn.update', 'turn.eager_end', 'turn.resume', 'turn.end', 'error'],
      closeCodes: { ...WS_CLOSE_CODES, 1011: 'the recogniser failed' },
    },
  },
]
