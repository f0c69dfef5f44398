import type { WireErrorBody } from '@voxgate/protocol'

/**
 * The closed catalogue of app-kit failures. Each is answered in Cartesia's error shape
 * (`{error_code, title, message, request_id}`) so the client SDK parses the app's token route and
 * the voice API alike. Messages are constants: none ever carries a token, an API key or a cookie.
 */
export const APP_KIT_ERRORS = {
  /** The route was called with another method than POST. Fix: POST. */
  method_not_allowed: { status: 405, title: 'Method not allowed', message: 'Use POST.' },
  /** `Origin` is missing or not one of the app's origins (cross-site request forgery). */
  origin_not_allowed: { status: 403, title: 'Forbidden', message: 'This origin may not call this route.' },
  /** The body is not declared as JSON; a cross-site form cannot send JSON without a CORS preflight. */
  unsupported_media_type: {
    status: 415,
    title: 'Unsupported media type',
    message: 'Send the request as application/json.',
  },
  /** The request could not be read (for example a malformed Host header). */
  bad_request: { status: 400, title: 'Bad request', message: 'The request is malformed.' },
  /** The request body is larger than the adapter accepts. */
  payload_too_large: { status: 413, title: 'Payload too large', message: 'The request body is too large.' },
  /** Nobody is signed in: `authenticate` returned null. Fix: sign in, then ask again. */
  signed_out: { status: 401, title: 'Unauthorized', message: 'Sign in to get a voice token.' },
  /** This session asked for too many tokens (`mintLimit`). Fix: wait `Retry-After` seconds. */
  rate_limited: {
    status: 429,
    title: 'Too many requests',
    message: 'Too many voice tokens were asked for; retry later.',
  },
  /** The voice API refused or failed to mint a token (answer, network or timeout). Retry later. */
  mint_failed: { status: 502, title: 'Bad gateway', message: 'The voice API did not issue a token.' },
  /** The app's own `authenticate`, `tokenFor` or `signOut` threw or answered nonsense. */
  internal_error: { status: 500, title: 'Internal server error', message: 'The server failed to handle the request.' },
} as const satisfies Record<string, { status: number; title: string; message: string }>

export type AppKitErrorCode = keyof typeof APP_KIT_ERRORS

/** A coded failure of a route. Its message is the catalogue's constant, safe for the wire. */
export class AppKitError extends Error {
  readonly code: AppKitErrorCode
  readonly status: number

  constructor(code: AppKitErrorCode, options?: { cause?: unknown }) {
    super(APP_KIT_ERRORS[code].message, options)
    this.name = 'AppKitError'
    this.code = code
    this.status = APP_KIT_ERRORS[code].status
  }
}

/** 429 `rate_limited`, with the whole seconds to wait (sent as `Retry-After`). */
export class RateLimitedError extends AppKitError {
  readonly retryAfterSeconds: number
  constructor(retryAfterSeconds: number) {
    super('rate_limited')
    this.retryAfterSeconds = retryAfterSeconds
  }
}

export type AppKitErrorBody = WireErrorBody<AppKitErrorCode>

export function errorBody(code: AppKitErrorCode, requestId: string): AppKitErrorBody {
  const { title, message } = APP_KIT_ERRORS[code]
  return { error_code: code, title, message, request_id: requestId }
}
