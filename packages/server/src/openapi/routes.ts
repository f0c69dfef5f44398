/**
 * The route table OpenAPI is generated from: one `RouteDoc` per HTTP route and WebSocket path, in the
 * order docs/endpoints.md lists them. Over 400 lines because it is data, a few lines a route for some
 * sixty routes, read top to bottom against the wire; splitting it by feature would scatter the one
 * list a reviewer checks for a route that is missing.
 */
import type { z } from 'zod'
import type { ErrorCode } from '@voxgate/protocol'
import {
  AccessTokenRequest,
  SttBatchFields,
  SttTurnsCommand,
  SttTurnsQuery,
  SttWebSocketQuery,
  TtsBytesRequest,
  TtsSseRequest,
  VoicesQuery,
  WsCancelRequest,
  WsGenerationRequest,
  WsRefreshToken,
} from '@voxgate/protocol/schemas'
import { RevokeRequest } from '../routes/access-token.ts'
import { UsageQuery } from '../usage/report.ts'
import { QuotaPut } from '../quotas/schema.ts'
import { ApiKeyCreate, ApiKeyListQuery, ApiKeyPatch, ApiKeyRotate } from '../keys/schema.ts'
import { WebhookCreate } from '../webhooks/schema.ts'
import { AuditQuery } from '../audit/query.ts'

/** Who may call a route: nobody needs a credential, an API key only, any credential, or a grant. */
export type Access = 'none' | 'api_key' | 'any' | { grant: 'tts' | 'voices' | 'stt' | 'voice_changer' }

/** The upgrade side of a WebSocket route: what the client sends and the events it gets back. */
export interface WebSocketDoc {
  /** JSON text frames the client sends, by name (their schemas are the server's). */
  client: Record<string, z.ZodType>
  /** Binary frames, when the socket takes audio. */
  binary?: string
  /** Event `type`s the server sends. */
  server: string[]
  closeCodes: Record<string, string>
}

/** One row of the route table: everything but the schemas, which come from the validators. */
export interface RouteDoc {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete'
  /** OpenAPI path (`{id}`), the Fastify route `/voices/:id`. */
  path: string
  summary: string
  tag: string
  access: Access
  body?: { schema: z.ZodType; name: string; multipart?: boolean }
  query?: z.ZodObject
  /** The success answer's media type and, where the answer is small and fixed, its properties. */
  ok: { status: number; type: string; description: string; properties?: Record<string, Record<string, unknown>> }
  /** Failures particular to the route (the credential, body and server-wide ones are added). */
  errors: ErrorCode[]
  websocket?: WebSocketDoc
}

/** What a relay in gateway mode (`voxgate serve --upstream`) adds: the upstream's own failures. */
const UPSTREAM_ERRORS: ErrorCode[] = [
  'upstream_unauthorized',
  'upstream_error',
  'upstream_unavailable',
  'upstream_timeout',
]
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
/** The voice changer: a multipart upload relayed to the upstream in gateway mode, or 501 without one. */
const VOICE_CHANGER_ERRORS: ErrorCode[] = [
  'not_supported',
  'payload_too_large',
  'quota_exceeded',
  'concurrency_limited',
  'rate_limited',
  ...UPSTREAM_ERRORS,
]
const WS_CLOSE_CODES = {
  1000: 'idle (no message for the idle timeout while nothing is spoken), or a normal close',
  1001: 'server shutdown',
  1007: 'a text frame that is not UTF-8',
  1008: 'a client that floods the socket or does not read it',
  4401: 'credential revoked, or expired past the session grace',
}
const WS_UPGRADE =
  'A WebSocket upgrade (`Upgrade: websocket`); the credential is checked before the upgrade, so a refusal is an HTTP status. A plain GET gets 400.'

export const json = (description: string, properties?: Record<string, Record<string, unknown>>) => ({
  status: 200,
  type: 'application/json',
  description,
  ...(properties && { properties }),
})

/** Every route the server registers. The OpenAPI test fails when one is missing here. */
export const ROUTES: readonly RouteDoc[] = [
  {
    method: 'get',
    path: '/',
    summary: 'API status',
    tag: 'status',
    access: 'none',
    ok: json('`{ok, version}`', { ok: { type: 'boolean' }, version: { type: 'string' } }),
    errors: [],
  },
  {
    method: 'get',
    path: '/.well-known/jwks.json',
    summary: 'Public signing keys (Ed25519 JWKs with kid)',
    tag: 'status',
    access: 'none',
    ok: json('A JWK set'),
    errors: [],
  },
  {
    method: 'get',
    path: '/healthz',
    summary: 'Liveness',
    tag: 'status',
    access: 'none',
    ok: json('`{ok: true}`', { ok: { type: 'boolean' } }),
    errors: [],
  },
  {
    method: 'get',
    path: '/readyz',
    summary: 'Readiness: store, Redis, draining (503 when not ready)',
    tag: 'status',
    access: 'none',
    ok: json('`{ready, checks}`'),
    errors: [],
  },
  {
    method: 'get',
    path: '/openapi.json',
    summary: 'This document',
    tag: 'status',
    access: 'none',
    ok: json('OpenAPI 3.1'),
    errors: [],
  },
  {
    method: 'post',
    path: '/access-token',
    summary: 'Mint a short-lived access token',
    tag: 'access tokens',
    access: 'api_key',
    body: { schema: AccessTokenRequest, name: 'AccessTokenRequest' },
    ok: json('`{token}`', { token: { type: 'string' } }),
    errors: ['rate_limited', 'limits_unavailable', 'key_policy_exceeded'],
  },
  {
    method: 'post',
    path: '/access-token/revoke',
    summary: "Revoke a token, a token id, or an end-user's tokens",
    tag: 'access tokens',
    access: 'api_key',
    body: { schema: RevokeRequest, name: 'RevokeRequest' },
    ok: json('`{revoked: true}`', { revoked: { type: 'boolean' } }),
    errors: [],
  },
  {
    method: 'get',
    path: '/usage',
    summary: 'Usage by day, sub and API key, from the ledger',
    tag: 'operators',
    access: 'api_key',
    query: UsageQuery,
    ok: json('`{from, to, group_by, data: [rows], totals}`'),
    errors: ['invalid_request'],
  },
  {
    method: 'put',
    path: '/quotas',
    summary: 'Set a quota per end-user (sub) and/or API key, per UTC day or month (201 created, 200 changed)',
    tag: 'operators',
    access: 'api_key',
    body: { schema: QuotaPut, name: 'QuotaPut' },
    ok: json('The quota, with `period_ends` and `used` in the current period'),
    errors: ['invalid_request'],
  },
  {
    method: 'get',
    path: '/quotas',
    summary: 'Every quota, with its use in the current period',
    tag: 'operators',
    access: 'api_key',
    ok: json('`{data: [quotas]}`'),
    errors: [],
  },
  {
    method: 'get',
    path: '/quotas/{id}',
    summary: 'One quota',
    tag: 'operators',
    access: 'api_key',
    ok: json('The quota'),
    errors: ['not_found'],
  },
  {
    method: 'delete',
    path: '/quotas/{id}',
    summary: 'Remove a quota',
    tag: 'operators',
    access: 'api_key',
    ok: { status: 204, type: '', description: 'Removed' },
    errors: ['not_found'],
  },
  {
    method: 'post',
    path: '/api-keys',
    summary: 'Create an API key (scopes default to mint and speech); its secret is in this answer only',
    tag: 'operators',
    access: 'api_key',
    body: { schema: ApiKeyCreate, name: 'ApiKeyCreate' },
    ok: { ...json('`{id, key, name, scopes, created_at, expires_at}`'), status: 201 },
    errors: ['invalid_request'],
  },
  {
    method: 'get',
    path: '/api-keys',
    summary: 'API keys (never a secret), by status: active (default, expired included), revoked or all',
    tag: 'operators',
    access: 'api_key',
    query: ApiKeyListQuery,
    ok: json('`{data: [keys]}`'),
    errors: ['invalid_request'],
  },
  {
    method: 'get',
    path: '/api-keys/{id}',
    summary: 'One API key (never its secret)',
    tag: 'operators',
    access: 'api_key',
    ok: json('The key'),
    errors: ['not_found'],
  },
  {
    method: 'patch',
    path: '/api-keys/{id}',
    summary: "Change a key's name, scopes or expiry",
    tag: 'operators',
    access: 'api_key',
    body: { schema: ApiKeyPatch, name: 'ApiKeyPatch' },
    ok: json('The key'),
    errors: ['invalid_request', 'not_found', 'last_admin_key'],
  },
  {
    method: 'delete',
    path: '/api-keys/{id}',
    summary: 'Revoke a key and every token it minted, on every instance',
    tag: 'operators',
    access: 'api_key',
    ok: { status: 204, type: '', description: 'Revoked' },
    errors: ['not_found', 'last_admin_key'],
  },
  {
    method: 'post',
    path: '/api-keys/{id}/rotate',
    summary:
      'Give a key a new secret (in this answer only); the old one works for grace_seconds more (default 86400), then 401 api_key_expired',
    tag: 'operators',
    access: 'api_key',
    body: { schema: ApiKeyRotate, name: 'ApiKeyRotate' },
    ok: json('The key, with `key` (the new secret) and `rotating_until`'),
    errors: ['invalid_request', 'not_found'],
  },
  {
    method: 'get',
    path: '/audit',
    summary: 'The audit log, newest first: one row per change, paged with `cursor` / `next_cursor`',
    tag: 'operators',
    access: 'api_key',
    query: AuditQuery,
    ok: json('`{data: [rows], next_cursor}`'),
    errors: ['invalid_request'],
  },
  {
    method: 'post',
    path: '/webhooks',
    summary:
      'Add a webhook (https:// only; a private or loopback address is refused); its secret is in this answer only',
    tag: 'operators',
    access: 'api_key',
    body: { schema: WebhookCreate, name: 'WebhookCreate' },
    ok: { ...json('`{id, url, events, created_at, secret}`'), status: 201 },
    errors: ['invalid_request', 'webhook_url_not_allowed'],
  },
  {
    method: 'get',
    path: '/webhooks',
    summary: 'Every webhook (never a secret); a read key sees URLs with path and query masked',
    tag: 'operators',
    access: 'api_key',
    ok: json('`{data: [{id, url, events, created_at}]}`'),
    errors: [],
  },
  {
    method: 'delete',
    path: '/webhooks/{id}',
    summary: 'Remove a webhook and its pending deliveries',
    tag: 'operators',
    access: 'api_key',
    ok: { status: 204, type: '', description: 'Removed' },
    errors: ['not_found'],
  },
  {
    method: 'get',
    path: '/webhooks/{id}/deliveries',
    summary: "A webhook's latest 100 deliveries, newest first",
    tag: 'operators',
    access: 'api_key',
    ok: json('`{data: [{event_id, type, attempt, status_code, error, next_attempt_at, delivered_at}]}`'),
    errors: ['not_found'],
  },
  {
    method: 'post',
    path: '/webhooks/{id}/test',
    summary: 'Send a webhook.test event to this webhook, delivered and retried like any other',
    tag: 'operators',
    access: 'api_key',
    ok: { ...json('`{event_id}`'), status: 202 },
    errors: ['not_found'],
  },
  {
    method: 'post',
    path: '/webhooks/{id}/rotate-secret',
    summary: 'A new signing secret, at once (pending retries are signed with it); shown in this answer only',
    tag: 'operators',
    access: 'api_key',
    ok: json('`{id, secret}`'),
    errors: ['not_found'],
  },
  {
    method: 'get',
    path: '/access-token/self',
    summary: "The calling token's grants, limits and usage",
    tag: 'access tokens',
    access: 'any',
    ok: json('Grants, times, sub, limits, usage'),
    errors: ['invalid_request'],
  },
  {
    method: 'get',
    path: '/voices',
    summary: 'List voices',
    tag: 'voices',
    access: { grant: 'voices' },
    query: VoicesQuery,
    ok: json('`{data, has_more, next_page}` (a bare array before API version 2024-11-13)'),
    errors: ['invalid_request', ...UPSTREAM_ERRORS],
  },
  {
    method: 'get',
    path: '/voices/',
    summary: 'List voices (SDK2 path)',
    tag: 'voices',
    access: { grant: 'voices' },
    query: VoicesQuery,
    ok: json('As `GET /voices`'),
    errors: ['invalid_request', ...UPSTREAM_ERRORS],
  },
  {
    method: 'get',
    path: '/voices/{id}',
    summary: 'One voice',
    tag: 'voices',
    access: { grant: 'voices' },
    ok: json('A voice'),
    errors: ['voice_not_found', ...UPSTREAM_ERRORS],
  },
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
  {
    method: 'post',
    path: '/voice-changer/bytes',
    summary:
      "Cartesia's voice changer, as an audio stream (gateway mode only: relayed to the upstream; 501 without one)",
    tag: 'voice changer',
    access: { grant: 'voice_changer' },
    ok: {
      status: 200,
      type: 'application/octet-stream',
      description: "Audio, by the multipart upload's output_format (relayed as the upstream sends it)",
    },
    errors: VOICE_CHANGER_ERRORS,
  },
  {
    method: 'post',
    path: '/voice-changer/sse',
    summary:
      "Cartesia's voice changer, as server-sent events (gateway mode only: relayed to the upstream; 501 without one)",
    tag: 'voice changer',
    access: { grant: 'voice_changer' },
    ok: { status: 200, type: 'text/event-stream', description: "The upstream's events, then `done` or `error`" },
    errors: VOICE_CHANGER_ERRORS,
  },
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
