import type { IncomingHttpHeaders } from 'node:http'

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

/** The client's `Cartesia-Version`, forwarded as sent (the first, if it came twice). */
export function cartesiaVersionOf(headers: IncomingHttpHeaders): string | undefined {
  const value = headers['cartesia-version']
  return Array.isArray(value) ? value[0] : value
}

/** The client's query string (`?…` or empty), passed through as sent (HTTP routes refuse credentials there). */
export function searchOf(url: string): string {
  const at = url.indexOf('?')
  return at < 0 ? '' : url.slice(at)
}
