import http from 'node:http'
import https from 'node:https'
import { isIP } from 'node:net'

/** Where gateway mode relays to, as configured (see config.ts `upstreamUrl`, `upstreamApiKey`). */
export interface UpstreamOptions {
  url: string
  apiKey: string
  timeoutMs: number
  /** The idle limit between upstream chunks while output is owed (config `upstreamIdleMs`). */
  idleMs: number
}

const LOOPBACK_NAMES = new Set(['localhost', 'localhost.'])

function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '')
  if (LOOPBACK_NAMES.has(host.toLowerCase())) return true
  if (isIP(host) === 4) return host.startsWith('127.')
  if (isIP(host) === 6) return host === '::1' || host.toLowerCase().startsWith('::ffff:127.')
  return false
}

/**
 * Checks an upstream URL: HTTPS, or plain HTTP to a loopback address only (the upstream key would
 * cross the network in the clear otherwise). Returns the base URL without a trailing slash.
 */
export function parseUpstreamUrl(raw: string): URL {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new TypeError('invalid server option --upstream: not a URL')
  }
  if (url.username || url.password)
    throw new TypeError(
      'invalid server option --upstream: a URL must not carry credentials; give the key in VOXGATE_UPSTREAM_API_KEY or --upstream-api-key-file',
    )
  if (url.search || url.hash)
    throw new TypeError('invalid server option --upstream: no query or fragment, only a base URL')
  if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
    throw new TypeError(
      `invalid server option --upstream: plain http:// is allowed only to a loopback address (the upstream key would travel in the clear); use https://${url.host}`,
    )
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new TypeError('invalid server option --upstream: use an https:// URL')
  url.pathname = url.pathname.replace(/\/+$/, '')
  return url
}

/**
 * The upstream a gateway relays to: its base URL, its key (held here and nowhere else), and the
 * timeout for connecting and for the first byte. Every relay builds its requests through this.
 */
export class Upstream {
  readonly base: URL
  readonly timeoutMs: number
  readonly idleMs: number
  /**
   * Kept-alive connections for the HTTP relays: a TLS handshake per request would add a round trip
   * or two to every first audio. Bounded, and idle ones go after a while (the upstream may drop them).
   */
  readonly agent: http.Agent
  readonly #apiKey: string

  constructor(options: UpstreamOptions) {
    this.base = parseUpstreamUrl(options.url)
    this.timeoutMs = options.timeoutMs
    this.idleMs = options.idleMs
    this.#apiKey = options.apiKey
    const agentOptions = { keepAlive: true, maxFreeSockets: 32, timeout: 30_000 }
    this.agent = this.base.protocol === 'https:' ? new https.Agent(agentOptions) : new http.Agent(agentOptions)
  }

  /** `node:https` or `node:http`'s `request`, matching the upstream's scheme. */
  get request(): typeof http.request {
    return this.base.protocol === 'https:' ? https.request : http.request
  }

  /** Drops the kept-alive connections (server shutdown). */
  close(): void {
    this.agent.destroy()
  }

  /**
   * The upstream URL of `path` (which starts with `/`; client values in it encoded by upstreamPath),
   * with the client's query string `search` (`?…` or empty). A path the URL parser would rewrite
   * (a dot segment resolved) is refused: the request would go elsewhere on the upstream.
   */
  url(path: string, search = ''): URL {
    const base = this.base.href.replace(/\/$/, '')
    const url = new URL(`${base}${path}${search}`)
    if (!url.href.startsWith(`${base}${path}`))
      throw new TypeError('an upstream path must not be rewritten by the URL parser')
    return url
  }

  /** As `url`, with the WebSocket scheme matching the upstream's (`wss:` for `https:`). */
  socketUrl(path: string, search = ''): URL {
    const url = this.url(path, search)
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:'
    return url
  }

  /**
   * Headers every upstream request carries: the upstream key (Cartesia's `X-API-Key`) and the
   * client's `Cartesia-Version`, forwarded as sent. Nothing else from the client is added here.
   *
   * Over plain HTTP (to a loopback address only: parseUpstreamUrl) the gateway also says
   * `X-Forwarded-Proto: https`, as a TLS-terminating proxy on the same host would: an upstream
   * voxgate run with --insecure-http-behind-proxy takes credentials only from a trusted proxy that
   * says so. That is true to the header's purpose (no credential crosses a network in the clear):
   * clients reach the gateway over HTTPS, and this hop never leaves the host; the upstream still
   * decides whom it trusts (--trusted-proxy, loopback by default).
   */
  headers(cartesiaVersion: string | undefined): Record<string, string> {
    return {
      'x-api-key': this.#apiKey,
      ...(cartesiaVersion !== undefined && { 'cartesia-version': cartesiaVersion }),
      ...(this.base.protocol === 'http:' && { 'x-forwarded-proto': 'https' }),
    }
  }

  /** `text` with every occurrence of the upstream key removed, for anything that reaches a client or a log. */
  scrub(text: string): string {
    return text.split(this.#apiKey).join('[redacted]')
  }
}
