import type { ErrorCode } from '@voxgate/protocol'
import {
  TtsBytesRequest,
  TtsSseRequest,
  WsCancelRequest,
  WsGenerationRequest,
  WsRefreshToken,
} from '@voxgate/protocol/schemas'
import { UPSTREAM_ERRORS, WS_CLOSE_CODES, WS_UPGRADE, type RouteDoc } from '../http/route-doc.ts'

const TTS_ERRORS: ErrorCode[] = [
  'invalid_request',
  'model_not_found',
  'voice_not_found',
  'voice_not_allowed',
  'transcript_too_long',
  'unsupported_output_format',
  'pronunciation_dict_not_found',
  'quota_exceeded',
  'concurrency_limited',
  'rate_limited',
  'limits_unavailable',
  'connection_closing',
  ...UPSTREAM_ERRORS,
]

/** Speech over the three transports, local (routes/tts.ts) or relayed (gateway/routes.ts) alike. */
export const TTS_DOCS: readonly RouteDoc[] = [
  {
    method: 'post',
    path: '/tts/bytes',
    summary: 'Speech as a chunked audio stream',
    tag: 'tts',
    access: { grant: 'tts' },
    body: { schema: TtsBytesRequest, name: 'TtsBytesRequest' },
    ok: {
      status: 200,
      type: 'application/octet-stream',
      description: 'Audio: raw PCM (application/octet-stream), audio/wav or audio/mpeg, by output_format',
    },
    errors: [...TTS_ERRORS, 'unsupported_feature'],
  },
  {
    method: 'post',
    path: '/tts/sse',
    summary: 'Speech as server-sent events',
    tag: 'tts',
    access: { grant: 'tts' },
    body: { schema: TtsSseRequest, name: 'TtsSseRequest' },
    ok: {
      status: 200,
      type: 'text/event-stream',
      description: '`chunk`, `timestamps`, `phoneme_timestamps` events, then `done` or `error`',
    },
    errors: TTS_ERRORS,
  },
  {
    method: 'get',
    path: '/tts/websocket',
    summary: "Cartesia's TTS WebSocket",
    tag: 'tts',
    access: { grant: 'tts' },
    ok: { status: 101, type: '', description: WS_UPGRADE },
    errors: ['invalid_request'],
    websocket: {
      client: { WsGenerationRequest, WsCancelRequest, WsRefreshToken },
      server: ['chunk', 'timestamps', 'phoneme_timestamps', 'flush_done', 'done', 'error', 'token_refreshed'],
      closeCodes: WS_CLOSE_CODES,
    },
  },
]
