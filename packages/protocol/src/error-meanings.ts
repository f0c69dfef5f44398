import type { ErrorCode } from './errors.ts'

/**
 * What each catalogue code means and what fixes it: one row per code for docs/errors.md, which
 * `npm run docs` generates from this table and ERROR_CATALOGUE (a new code without a row here does
 * not type-check). Documentation only: not exported from the package root, so no bundle carries it.
 * Links are relative to docs/.
 */
export const ERROR_MEANINGS: Readonly<Record<ErrorCode, string>> = {
  invalid_request: 'The body, query or message does not match the schema; the message names the field. Fix that field.',
  credential_in_query:
    'A key or token in the URL of an HTTP route (URLs end up in logs). Send it in `Authorization` instead; only WebSocket upgrades take `?access_token=`.',
  model_not_found: 'Unknown `model_id`. Use `sonic-3` or a `voxgate-*` id ([models](speech.md#models)).',
  transcript_too_long:
    'More than 10 000 [characters](tokens-and-grants.md#what-a-character-is) in one request (100 000 in all on one WebSocket context). Split the text.',
  unsupported_output_format:
    'An output format the transport cannot carry (SSE and WebSocket carry `raw` only). Pick another container or transport.',
  unsupported_audio_format:
    'An STT upload that is not WAV, Ogg/WebM Opus, MP3 or FLAC (M4A/AAC, Ogg Vorbis), or headerless bytes without `?encoding=&sample_rate=`. Convert it, or name the raw encoding and rate.',
  pronunciation_dict_not_found:
    'A `pronunciation_dict_id`: voxgate has no pronunciation dictionaries. Leave the field out.',
  unsupported_feature:
    '`save: true` on `/tts/bytes`: voxgate keeps no audio files (no `Cartesia-File-ID`). Leave it out or `false`.',
  webhook_url_not_allowed:
    'A webhook URL that is not `https://`, holds a user or password, or whose host is (or resolves to) a private, loopback, link-local or cloud metadata address ([webhooks](webhooks.md#what-a-webhook-may-reach)). Use a public HTTPS endpoint; `--webhook-allow-private` (development only) allows private ones and `http://`.',
  missing_credentials:
    'No credential. Send `Authorization: Bearer <key or token>` ([credentials](tokens-and-grants.md#credentials)).',
  invalid_credentials:
    'Unknown or revoked API key, or a token that is malformed, forged, not ours, or for another audience. Mint a new token; check which server the key belongs to.',
  token_expired: 'The token is past `exp` (5 s of skew allowed). Refresh it.',
  token_revoked: 'The token, its `sub`, or its API key was revoked. Sign in again for a new token.',
  api_key_expired:
    'The API key is past its `expires_at`. Create a new key (`POST /api-keys` or `voxgate keys create`) and switch to it.',
  api_key_required:
    'A token on a route that needs an API key (minting, revocation, usage, quotas). Call it from your backend with the API key.',
  insufficient_scope:
    "The token's grants do not cover the route ([grants](tokens-and-grants.md#grants)), or the API key lacks the scope the message names (`mint`, `speech`, `read`, `admin`). Mint with the grant it needs, or use a key with that scope.",
  key_policy_exceeded:
    "A mint outside the API key's policy; the message names the field (`allowed_grants`, `max_expires_in`, `max_limits.characters`, `max_limits.audio_seconds`). Ask within the policy (a budgeted key's tokens must carry that budget).",
  origin_not_allowed:
    "The `Origin` is not allowed for the token cookie, a browser WebSocket, or the token's `limits.origins`. Add it (`--allowed-origin`, or the token's limits).",
  voice_not_allowed: "The voice is not in the token's `limits.voices`.",
  insecure_transport:
    'Plain-HTTP mode (`--insecure-http-behind-proxy`) and the request did not come through a trusted TLS proxy with `X-Forwarded-Proto: https`. Call it through the proxy, over HTTPS.',
  identity_mismatch:
    'A WebSocket `refresh_token` with a token of another API key or `sub`. Open a new socket for that user.',
  not_found: 'No such route.',
  last_admin_key:
    'Revoking or down-scoping the last live `admin` API key; the store would have no key that can administer it. Create another `admin` key first.',
  voice_not_found: 'No such voice. `GET /voices` lists them.',
  request_timeout:
    'The headers did not arrive within `--headers-timeout-seconds`, the request within `--request-timeout-seconds`, or the body fell below `--body-min-rate` after the grace. The connection is closed.',
  payload_too_large: 'Body over 64 KiB (an STT upload: over 25 MiB, or over 1200 s of audio once decoded).',
  unsupported_media_type:
    "The body has a `Content-Type` other than `application/json` (a body with no `Content-Type` at all is read as JSON, as LiveKit's Cartesia plugin sends it).",
  headers_too_large: 'Request headers over 16 KiB in all. The connection is closed.',
  quota_exceeded:
    "The token's `limits.characters` or `limits.audio_seconds` budget would be exceeded (`x-should-retry: false`: mint a new token), or a [quota](usage-quotas-metrics.md#quotas-per-end-user-and-per-api-key) per end-user or API key (`Retry-After` until the period ends, UTC).",
  concurrency_limited: 'The token already holds `limits.concurrent_streams` streams; retry after `Retry-After`.',
  rate_limited: "The API key's minting or stream rate limit; `Retry-After` says when.",
  too_many_contexts: 'A WebSocket already has 64 open contexts. Finish or cancel one first.',
  message_too_large:
    'A WebSocket message over 256 KiB (an error event; the socket stays open). Send the text in pieces.',
  context_cancelled: 'The stream was cancelled.',
  connection_closing:
    'The socket is closing (idle, shutdown), or the instance is draining (new streams; `Retry-After: 1`): retry, the load balancer sends you elsewhere.',
  limits_unavailable:
    'Redis, which holds the shared stream slots, is unreachable; only tokens with `limits.concurrent_streams` get this. `Retry-After: 2`.',
  store_unavailable:
    "The key store (PostgreSQL) is unreachable and the request needs it (revoking, a token's speech, an unknown API key). `Retry-After: 2`.",
  server_busy:
    "All speech recognisers (`--stt-max-streams`, default 4) are in use; `Retry-After: 1`. Not the token's own limit (that is `concurrency_limited`).",
  stt_unavailable:
    'PocketSphinx (library, or the en-us model in `--stt-model-dir`, default `/usr/share/pocketsphinx/model/en-us`) is not installed on the server; the message names the `apt-get install` line ([troubleshooting](troubleshooting.md#pocketsphinx-is-missing)).',
  internal_error: "A bug; the request id is in the server's log.",
  not_supported: 'The voice changer without `--upstream`: voxgate has no voice changer of its own.',
  upstream_unauthorized:
    "Gateway mode: the upstream refused voxgate's own upstream key (401/403 there). The operator must fix the key; never a 401, which would make the SDK refresh a valid token in a loop.",
  upstream_error: 'Gateway mode: the upstream failed (5xx), or a relayed stream was cut mid-way.',
  upstream_unavailable: 'Gateway mode: the upstream could not be reached (refused, reset, DNS, TLS).',
  upstream_timeout:
    'Gateway mode: no connection or first byte from the upstream within `--upstream-timeout-seconds` (default 10).',
}
