import type { FakeClock } from './clock.ts'

export interface Call {
  n: number
  init: RequestInit | undefined
}

/** A fake JWT whose payload carries `iat`/`exp` (the signature is irrelevant to the client). */
export function fakeJwt(iat: number, exp: number, n: number): string {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')
  return `${b64({ alg: 'EdDSA' })}.${b64({ iat, exp, n })}.sig${n}`
}

export type Reply =
  | number
  | 'network'
  | 'mint'
  | { token?: string; expires_at: number; issued_at?: number; date?: number }

/**
 * The app backend's token route, faked at the fetch edge: each call takes the next scripted reply
 * (a status, a network failure, or a body), or by default mints a `ttl`-second token on the server clock.
 */
export function fakeBackend(
  clock: FakeClock,
  opts: { ttl?: number; script?: Reply[]; issuedAt?: boolean; date?: boolean; jwt?: boolean } = {},
) {
  const calls: Call[] = []
  const tokens: string[] = []
  const script = [...(opts.script ?? [])]
  const fetch = async (_url: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const n = calls.length + 1
    calls.push({ n, init })
    const reply = script.shift() ?? 'mint'
    if (reply === 'network') throw new TypeError('fetch failed')
    if (typeof reply === 'number')
      return new Response(JSON.stringify({ error: 'x' }), {
        status: reply,
        headers: { 'content-type': 'application/json' },
      })
    const iat = Math.floor(clock.serverSeconds())
    const body = reply === 'mint' ? mintBody(iat, opts.ttl ?? 60, n, opts) : reply
    if (body.token) tokens.push(body.token)
    const headers: Record<string, string> = { 'content-type': 'application/json' }
    if (opts.date !== false) headers.date = new Date(iat * 1000).toUTCString()
    return new Response(JSON.stringify(body), { status: 200, headers })
  }
  return { fetch: fetch as typeof globalThis.fetch, calls, tokens }
}

function mintBody(iat: number, ttl: number, n: number, opts: { issuedAt?: boolean; jwt?: boolean }) {
  const token = opts.jwt === false ? `opaque-token-${n}` : fakeJwt(iat, iat + ttl, n)
  return { token, expires_at: iat + ttl, ...(opts.issuedAt && { issued_at: iat }) }
}
