/**
 * The closed catalogue of voxgate error codes. Every error on the wire carries one of these as
 * `error_code` in Cartesia's shape (`{error_code, title, message, request_id}`), and the HTTP status
 * is derived from the code here, in one place, so that server and client agree.
 */
export const ERROR_CATALOGUE = {
  invalid_request: { status: 400, title: 'Invalid request' },
  credential_in_query: { status: 400, title: 'Credential in query string' },
  model_not_found: { status: 400, title: 'Model not found' },
  transcript_too_long: { status: 400, title: 'Transcript too long' },
  unsupported_output_format: { status: 400, title: 'Unsupported output format' },
  unsupported_audio_format: { status: 400, title: 'Unsupported audio format' },
  pronunciation_dict_not_found: { status: 400, title: 'Pronunciation dictionary not found' },
  unsupported_feature: { status: 400, title: 'Not supported' },
  webhook_url_not_allowed: { status: 400, title: 'Webhook URL not allowed' },
  missing_credentials: { status: 401, title: 'Unauthorized' },
  invalid_credentials: { status: 401, title: 'Unauthorized' },
  token_expired: { status: 401, title: 'Unauthorized' },
  token_revoked: { status: 401, title: 'Unauthorized' },
  api_key_expired: { status: 401, title: 'Unauthorized' },
  api_key_required: { status: 403, title: 'Forbidden' },
  insufficient_scope: { status: 403, title: 'Forbidden' },
  key_policy_exceeded: { status: 403, title: 'Forbidden' },
  origin_not_allowed: { status: 403, title: 'Forbidden' },
  voice_not_allowed: { status: 403, title: 'Forbidden' },
  insecure_transport: { status: 403, title: 'Forbidden' },
  identity_mismatch: { status: 403, title: 'Forbidden' },
  not_found: { status: 404, title: 'Not found' },
  last_admin_key: { status: 409, title: 'Conflict' },
  voice_not_found: { status: 404, title: 'Voice not found' },
  request_timeout: { status: 408, title: 'Request timeout' },
  payload_too_large: { status: 413, title: 'Payload too large' },
  unsupported_media_type: { status: 415, title: 'Unsupported media type' },
  headers_too_large: { status: 431, title: 'Request header fields too large' },
  quota_exceeded: { status: 429, title: 'Quota exceeded' },
  concurrency_limited: { status: 429, title: 'Too many concurrent requests' },
  rate_limited: { status: 429, title: 'Too many requests' },
  too_many_contexts: { status: 429, title: 'Too many contexts' },
  message_too_large: { status: 413, title: 'Message too large' },
  context_cancelled: { status: 499, title: 'Context cancelled' },
  connection_closing: { status: 503, title: 'Connection closing' },
  limits_unavailable: { status: 503, title: 'Limits unavailable' },
  store_unavailable: { status: 503, title: 'Store unavailable' },
  server_busy: { status: 503, title: 'Server busy' },
  stt_unavailable: { status: 503, title: 'Speech recognition unavailable' },
  internal_error: { status: 500, title: 'Internal server error' },
  not_supported: { status: 501, title: 'Not supported' },
  upstream_unauthorized: { status: 502, title: 'Upstream refused the gateway' },
  upstream_error: { status: 502, title: 'Upstream error' },
  upstream_unavailable: { status: 502, title: 'Upstream unavailable' },
  upstream_timeout: { status: 504, title: 'Upstream timeout' },
} as const satisfies Record<string, { status: number; title: string }>

export type ErrorCode = keyof typeof ERROR_CATALOGUE

export function statusOf(code: ErrorCode): number {
  return ERROR_CATALOGUE[code].status
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CATALOGUE, value)
}

/**
 * Cartesia's error shape, for any catalogue of codes (the app kit answers in it too, with its own).
 */
export interface WireErrorBody<C extends string = string> {
  error_code: C
  title: string
  message: string
  request_id: string
}

/** The JSON body of every HTTP error, and the shape of WebSocket/SSE error events minus `type`. */
export type ErrorBody = WireErrorBody<ErrorCode>

/**
 * A coded failure. `message` is meant for the wire: it must never contain a credential, so callers
 * build it from constants and ids only.
 */
export class VoxgateError extends Error {
  readonly code: ErrorCode
  readonly status: number
  /** Extra response headers the failure calls for (`Retry-After`, `WWW-Authenticate`, ...). */
  readonly headers: Readonly<Record<string, string>>

  constructor(code: ErrorCode, message: string, headers: Record<string, string> = {}) {
    super(message)
    this.name = 'VoxgateError'
    this.code = code
    this.status = statusOf(code)
    this.headers = headers
  }

  toBody(requestId: string): ErrorBody {
    return {
      error_code: this.code,
      title: ERROR_CATALOGUE[this.code].title,
      message: this.message,
      request_id: requestId,
    }
  }
}
