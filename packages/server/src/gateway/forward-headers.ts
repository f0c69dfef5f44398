import type { IncomingHttpHeaders } from 'node:http'
import { API_VERSION, API_VERSION_PATTERN, VoxgateError } from '@voxgate/protocol'

/**
 * The client headers a relay forwards: an allowlist, so nothing the client sent reaches the upstream
 * unless named here. Its credential (Authorization, X-API-Key, the token cookie), its Origin and
 * every hop-by-hop header stay behind by construction; the upstream key and Cartesia-Version are
 * added by `Upstream.headers`.
 */
const FORWARDED = ['content-type', 'accept'] as const

/** The forwarded headers of a request, plus any the relay sets itself (`content-type` of a JSON body). */
export function forwardHeaders(headers: IncomingHttpHeaders, own: Record<string, string> = {}): Record<string, string> {
  const out: Record<string, string> = {}
  for (const name of FORWARDED) {
    const value = headers[name]
    if (typeof value === 'string') out[name] = value
  }
  return { ...out, ...own }
}

/**
 * The client's `Cartesia-Version`, forwarded as sent once it is a date (YYYY-MM-DD, Cartesia's
 * syntax); anything else (a header sent twice arrives joined, so it is refused too) is a 400 before
 * it reaches the upstream or a cache key.
 */
export function cartesiaVersionOf(headers: IncomingHttpHeaders): string | undefined {
  const raw = headers['cartesia-version']
  const value = Array.isArray(raw) ? raw[0] : raw
  if (value !== undefined) checkVersion(value, 'The Cartesia-Version header')
  return value
}

/** The query's `cartesia_version` (SDKs in browsers send it there), held to the header's syntax. */
export function checkQueryVersion(query: URLSearchParams): void {
  for (const value of query.getAll('cartesia_version')) checkVersion(value, 'cartesia_version')
}

function checkVersion(value: string, what: string): void {
  if (!API_VERSION_PATTERN.test(value))
    throw new VoxgateError('invalid_request', `${what} must be a date, YYYY-MM-DD (e.g. ${API_VERSION}).`)
}

/**
 * The client's query string (`?…` or empty), passed through as sent (HTTP routes refuse credentials
 * there) once its `cartesia_version` is a date.
 */
export function searchOf(url: string): string {
  const at = url.indexOf('?')
  if (at < 0) return ''
  checkQueryVersion(new URLSearchParams(url.slice(at)))
  return url.slice(at)
}
