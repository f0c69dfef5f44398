import { ERROR_CATALOGUE, VoxgateError, type ErrorCode, type WireErrorBody } from '@voxgate/protocol'
import type { Upstream } from './upstream.ts'

/**
 * What a client gets when the upstream fails, for every relay (HTTP and WebSocket alike):
 * - the upstream's own refusals of the request (400, 404, 422, 429) pass through with their status,
 *   `error_code` and `message`, cleaned of the upstream key and capped in length;
 * - 401/403 mean the gateway's upstream key is wrong, not the client's token: 502
 *   `upstream_unauthorized` (a 401 would make the client's SDK refresh a valid token in a loop);
 * - anything else (5xx, a 3xx, an odd 4xx) is 502 `upstream_error`;
 * - a failed connection is 502 `upstream_unavailable`, a timeout 504 `upstream_timeout`.
 */

/** Statuses whose answer is about the client's request, so the client sees it as the upstream said. */
const PASSED_THROUGH = new Set([400, 404, 422, 429])

/** Upstream messages are read, cleaned and cut to this many characters before reaching a client. */
export const MAX_UPSTREAM_MESSAGE = 500

/** The nearest catalogue code of a passed-through status, for logs, metrics and `switch (err.code)`. */
const NEAREST: Record<number, ErrorCode> = {
  400: 'invalid_request',
  404: 'not_found',
  422: 'invalid_request',
  429: 'rate_limited',
}

/** Retry hints a 429 carries (PROTOCOL.md §8: the official SDK honours them), kept on the way through. */
const RETRY_HEADERS = ['retry-after', 'retry-after-ms', 'x-should-retry'] as const

/**
 * An upstream's refusal passed through: its status and `error_code` may lie outside our catalogue
 * (Cartesia publishes no full list), so the wire body is built here, not from `code`. `code` is the
 * nearest catalogue code, so code that only knows VoxgateError still handles it sensibly.
 */
export class UpstreamRefusal extends VoxgateError {
  override readonly status: number
  /** The upstream's `error_code`, sent to the client as is. */
  readonly upstreamCode: string
  readonly title: string

  constructor(
    status: number,
    upstreamCode: string,
    title: string,
    message: string,
    headers: Record<string, string> = {},
  ) {
    super(NEAREST[status] ?? 'invalid_request', message, headers)
    this.name = 'UpstreamRefusal'
    this.status = status
    this.upstreamCode = upstreamCode
    this.title = title
  }

  /** Cartesia's error shape with the upstream's code and title, and our request id. */
  wireBody(requestId: string): WireErrorBody {
    return { error_code: this.upstreamCode, title: this.title, message: this.message, request_id: requestId }
  }
}

/**
 * The body to send for any coded failure: a passed-through refusal keeps the upstream's code
 * (`toBody` can only name catalogue codes), everything else is `toBody`. HTTP and WebSocket use this.
 */
export function errorBody(err: VoxgateError, requestId: string): WireErrorBody {
  return err instanceof UpstreamRefusal ? err.wireBody(requestId) : err.toBody(requestId)
}

interface UpstreamErrorFields {
  code?: string
  title?: string
  message?: string
}

/** The upstream's error body: Cartesia's JSON shape, or (older API versions) plain text. */
function parseBody(bodyText: string): UpstreamErrorFields {
  try {
    const parsed: unknown = JSON.parse(bodyText)
    if (parsed && typeof parsed === 'object') {
      const o = parsed as Record<string, unknown>
      const pick = (k: string) => (typeof o[k] === 'string' ? (o[k] as string) : undefined)
      return { code: pick('error_code'), title: pick('title'), message: pick('message') ?? pick('error') }
    }
  } catch {
    // Not JSON: the text itself is the message.
  }
  return { message: bodyText }
}

/** Scrubbed first (a cut could split the key and leave half of it), then cut, then control characters out. */
function clean(upstream: Upstream, text: string, max: number): string {
  const scrubbed = upstream
    .scrub(text)
    .replace(/[\u0000-\u001f\u007f]+/g, ' ')
    .trim()
  return scrubbed.length > max ? `${scrubbed.slice(0, max - 1)}…` : scrubbed
}

/** An error code the client can switch on: identifier characters only, bounded. */
function cleanCode(upstream: Upstream, code: string | undefined, status: number): string {
  const fallback = NEAREST[status] ?? 'invalid_request'
  if (code === undefined) return fallback
  const cleaned = clean(upstream, code, 64)
  return /^[A-Za-z0-9_.-]+$/.test(cleaned) ? cleaned : fallback
}

function retryHeaders(upstream: Upstream, headers: Headers | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  for (const name of RETRY_HEADERS) {
    const value = headers?.get(name)
    if (value) out[name] = clean(upstream, value, 64)
  }
  return out
}

/**
 * The upstream refused the gateway itself (401/403): its key, or (`insecure_transport`) the way the
 * gateway reached it. The client gets 502 `upstream_unauthorized`; the upstream's status and
 * `error_code` are kept so the operator is told which it is (gateway/start-check.ts).
 */
export class UpstreamUnauthorized extends VoxgateError {
  constructor(
    readonly upstreamStatus: number,
    readonly upstreamCode: string | undefined,
  ) {
    super(
      'upstream_unauthorized',
      `The upstream refused the gateway (HTTP ${upstreamStatus}${upstreamCode ? `, ${upstreamCode}` : ''}); the operator must fix the gateway's upstream settings.`,
    )
    this.name = 'UpstreamUnauthorized'
  }
}

/**
 * The upstream answered with a status that is neither a success nor a refusal passed through (a
 * 5xx, a 3xx, an odd 4xx): 502 `upstream_error`. The status is kept: only a 5xx counts against the
 * upstream (circuit-breaker.ts, fallback.ts).
 */
export class UpstreamServerError extends VoxgateError {
  constructor(readonly upstreamStatus: number) {
    super('upstream_error', `The upstream failed (HTTP ${upstreamStatus}).`)
    this.name = 'UpstreamServerError'
  }
}

/** The upstream's `error_code`, cleaned, when its body has one. */
function upstreamCodeOf(upstream: Upstream, bodyText: string): string | undefined {
  const code = parseBody(bodyText).code
  const cleaned = code === undefined ? '' : clean(upstream, code, 64)
  return /^[A-Za-z0-9_.-]+$/.test(cleaned) ? cleaned : undefined
}

/**
 * The answer for an upstream response that is not a success, HTTP or a refused WebSocket handshake:
 * `status` and `bodyText` as the upstream sent them; `headers` (optional) for a 429's retry hints.
 */
export function upstreamFailure(upstream: Upstream, status: number, bodyText: string, headers?: Headers): VoxgateError {
  if (status === 401 || status === 403) return new UpstreamUnauthorized(status, upstreamCodeOf(upstream, bodyText))
  if (!PASSED_THROUGH.has(status)) return new UpstreamServerError(status)
  const fields = parseBody(bodyText)
  const title = clean(upstream, fields.title ?? ERROR_CATALOGUE[NEAREST[status] ?? 'invalid_request'].title, 100)
  const message =
    clean(upstream, fields.message ?? '', MAX_UPSTREAM_MESSAGE) || `The upstream refused the request (HTTP ${status}).`
  return new UpstreamRefusal(
    status,
    cleanCode(upstream, fields.code, status),
    title,
    message,
    status === 429 ? retryHeaders(upstream, headers) : {},
  )
}

/** Node's socket-level error codes, safe to name in a message (constants, no addresses or keys). */
const NETWORK_CODE = /^(E[A-Z_]+|ERR_[A-Z_]+|UND_ERR_[A-Z_]+|[A-Z_]*CERT[A-Z_]*)$/

/**
 * The answer for a request that got no upstream response: a timeout (no connection or no first byte
 * within `upstreamTimeoutMs`) is 504, anything else (refused, reset, DNS, TLS) 502. The error's own
 * message is never passed on: it may hold a host or path the client need not see.
 */
export function networkFailure(err: unknown, timedOut: boolean): VoxgateError {
  if (timedOut) return new VoxgateError('upstream_timeout', 'The upstream did not answer in time.')
  const code = (err as { code?: unknown } | undefined)?.code
  const named = typeof code === 'string' && NETWORK_CODE.test(code) ? ` (${code})` : ''
  return new VoxgateError('upstream_unavailable', `The upstream could not be reached${named}.`)
}
