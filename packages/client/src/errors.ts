import type { ErrorCode } from '@voxgate/protocol'

/**
 * The closed catalogue of client errors. Every failure the SDK reports is a `VoxgateClientError`
 * with a stable `code`, so `switch (err.code)` narrows. Server `error_code`s become `ERR_<CODE>`
 * (`token_expired` → `ERR_TOKEN_EXPIRED`). No message ever contains a credential: messages are
 * built from constants, status codes and request ids only.
 */
export type ServerErrorCode = `ERR_${Uppercase<ErrorCode>}`

export type ClientErrorCode =
  | ServerErrorCode
  /** The app backend answered 401/403: the user is signed out. Call `signedIn()` after signing in again. */
  | 'ERR_SIGNED_OUT'
  /** The app backend kept failing (5xx or network) after the bounded retries. */
  | 'ERR_TOKEN_BACKEND'
  /** The app backend answered 200 with a body that is not `{token?, expires_at}`. */
  | 'ERR_TOKEN_RESPONSE'
  /** A credential would have gone to a plain-HTTP URL that is not localhost. */
  | 'ERR_INSECURE_URL'
  /** Something that looks like an API key (`sk_…`) reached the browser. */
  | 'ERR_API_KEY_IN_BROWSER'
  /** The voice API answered with a status and no recognizable error body. */
  | 'ERR_HTTP'
  /** The network failed before the voice API answered. */
  | 'ERR_NETWORK'
  /** The WebSocket could not be opened. */
  | 'ERR_SOCKET_CONNECT'
  /** The WebSocket closed while this context was still open. */
  | 'ERR_SOCKET_CLOSED'
  /** The server sent something that does not follow the protocol. */
  | 'ERR_PROTOCOL'
  /** The caller aborted (AbortSignal) or the client was closed. */
  | 'ERR_ABORTED'
  /** The microphone could not be opened (permission refused, no device, or no microphone API here). */
  | 'ERR_MICROPHONE'
  /** The PCM source given to `listen()` threw, or yielded something other than Int16Array / Float32Array. */
  | 'ERR_AUDIO_SOURCE'

/** Server codes worth retrying later (capacity, shutdown, transient failures). */
const RETRYABLE_SERVER: ReadonlySet<string> = new Set([
  'concurrency_limited',
  'rate_limited',
  'too_many_contexts',
  'connection_closing',
  'internal_error',
])

/**
 * Base class of every error the SDK throws at runtime.
 * @example
 * try { for await (const c of client.speak(req)) play(c) }
 * catch (err) { if (err instanceof VoxgateClientError && err.retryable) retryLater() }
 */
export class VoxgateClientError extends Error {
  readonly code: ClientErrorCode
  /** True when the same call may succeed later without changing anything. */
  readonly retryable: boolean

  constructor(code: ClientErrorCode, message: string, retryable = false, options?: { cause?: unknown }) {
    super(message, options)
    this.name = new.target.name
    this.code = code
    this.retryable = retryable
  }
}

/**
 * The app backend said the user is not signed in (401/403). The token source stops refreshing
 * until `signedIn()` is called, so a signed-out tab does not hammer the backend.
 * @example
 * if (err instanceof SignedOutError) showSignIn()
 */
export class SignedOutError extends VoxgateClientError {
  constructor(readonly status: number) {
    super('ERR_SIGNED_OUT', `The app backend answered ${status}: sign in again, then call signedIn().`)
  }
}

/**
 * The app backend failed (5xx, network, or a malformed answer) after bounded retries.
 * @example
 * if (err instanceof TokenBackendError) showOffline()
 */
export class TokenBackendError extends VoxgateClientError {
  constructor(
    code: 'ERR_TOKEN_BACKEND' | 'ERR_TOKEN_RESPONSE',
    message: string,
    retryable: boolean,
    readonly status?: number,
    cause?: unknown,
  ) {
    super(code, message, retryable, { cause })
  }
}

/**
 * A safety rail refused a call: plain HTTP to a remote host, or an API key in a browser.
 * @example
 * new VoxgateClient({ baseUrl: 'http://voice.example.com', tokens }) // throws ERR_INSECURE_URL
 */
export class UnsafeCredentialError extends VoxgateClientError {
  constructor(code: 'ERR_INSECURE_URL' | 'ERR_API_KEY_IN_BROWSER', message: string) {
    super(code, message)
  }
}

/**
 * The voice API refused a request. `code` is the server's `error_code` as `ERR_<CODE>`;
 * `status`, `serverCode` and `requestId` identify it for support.
 * @example
 * if (err instanceof ApiError && err.code === 'ERR_INSUFFICIENT_SCOPE') askForVoicesGrant()
 */
export class ApiError extends VoxgateClientError {
  constructor(
    code: ServerErrorCode | 'ERR_HTTP',
    message: string,
    readonly status: number,
    readonly serverCode: string | undefined,
    readonly requestId: string | undefined,
    retryable: boolean,
  ) {
    super(code, message, retryable)
  }

  /** True for a refused credential (401), the one case worth one refresh and one retry. */
  get isUnauthorized(): boolean {
    return this.status === 401
  }
}

/**
 * A network or WebSocket failure: the socket could not open, or closed with contexts still open.
 * @example
 * if (err instanceof ConnectionError && err.code === 'ERR_SOCKET_CLOSED') speakAgain()
 */
export class ConnectionError extends VoxgateClientError {
  constructor(
    code: 'ERR_NETWORK' | 'ERR_SOCKET_CONNECT' | 'ERR_SOCKET_CLOSED',
    message: string,
    readonly closeCode?: number,
    cause?: unknown,
  ) {
    super(code, message, true, { cause })
  }
}

/**
 * The server broke the protocol (a malformed event), or the caller aborted.
 * @example
 * if (err instanceof StreamError && err.code === 'ERR_ABORTED') return
 */
export class StreamError extends VoxgateClientError {
  constructor(code: 'ERR_PROTOCOL' | 'ERR_ABORTED', message: string) {
    super(code, message)
  }
}

/**
 * Audio input failed on this side: the microphone could not be opened, or the caller's PCM source broke.
 * @example
 * if (err instanceof AudioInputError && err.code === 'ERR_MICROPHONE') askForMicrophonePermission()
 */
export class AudioInputError extends VoxgateClientError {
  constructor(code: 'ERR_MICROPHONE' | 'ERR_AUDIO_SOURCE', message: string, cause?: unknown) {
    super(code, message, false, { cause })
  }
}

/** What the server puts in an error body or an `error` event. */
export interface ServerErrorBody {
  error_code?: unknown
  title?: unknown
  message?: unknown
  request_id?: unknown
}

/**
 * Turns a server error (`{error_code, title, message, request_id}`) into a typed `ApiError`.
 * @example
 * const err = apiErrorFrom(401, { error_code: 'token_expired', message: 'expired' })
 * err.code // 'ERR_TOKEN_EXPIRED'
 */
export function apiErrorFrom(status: number, body: ServerErrorBody | undefined): ApiError {
  const serverCode =
    typeof body?.error_code === 'string' && /^[a-z_]{1,64}$/.test(body.error_code) ? body.error_code : undefined
  const code = serverCode ? (`ERR_${serverCode.toUpperCase()}` as ServerErrorCode) : 'ERR_HTTP'
  const text =
    typeof body?.message === 'string' ? body.message : typeof body?.title === 'string' ? body.title : `HTTP ${status}`
  const requestId = typeof body?.request_id === 'string' ? body.request_id : undefined
  const retryable = serverCode ? RETRYABLE_SERVER.has(serverCode) : status >= 500 || status === 429
  return new ApiError(code, text.slice(0, 500), status, serverCode, requestId, retryable)
}
