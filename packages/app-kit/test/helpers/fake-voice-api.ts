/**
 * The network edge of the app kit, faked: a `fetch` that answers like a voice API and records what
 * it was asked. Everything else in these tests is the real code.
 */
export interface RecordedCall {
  url: string
  method: string
  headers: Headers
  body: any
  signal: AbortSignal | undefined
}

export type Answer = (call: RecordedCall) => Response | Promise<Response>

export const API_KEY = 'sk_test_0123456789abcdefSECRET'
export const APP_ORIGIN = 'https://app.example.test'
export const VOICE_API = 'https://voice.example.test'

const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')

/** A JWT-shaped token (unsigned: the app kit only reads `exp` and `iat`). */
export function fakeJwt(claims: Record<string, unknown>): string {
  return `${b64url({ alg: 'EdDSA', typ: 'JWT' })}.${b64url(claims)}.c2lnbmF0dXJl`
}

export function jsonResponse(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } })
}

export function fakeVoiceApi(answer: Answer): { fetch: typeof fetch; calls: RecordedCall[] } {
  const calls: RecordedCall[] = []
  const fetchImpl = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const call: RecordedCall = {
      url: String(input),
      method: init?.method ?? 'GET',
      headers: new Headers(init?.headers),
      body: typeof init?.body === 'string' ? JSON.parse(init.body) : undefined,
      signal: init?.signal ?? undefined,
    }
    calls.push(call)
    return answer(call)
  }
  return { fetch: fetchImpl as typeof fetch, calls }
}

/** A request as a browser on the app's page would send it to the token route. */
export function browserPost(
  path: string,
  init: { origin?: string | null; contentType?: string | null; method?: string; cookie?: string } = {},
): Request {
  const headers = new Headers()
  if (init.origin !== null) headers.set('origin', init.origin ?? APP_ORIGIN)
  if (init.contentType !== null) headers.set('content-type', init.contentType ?? 'application/json')
  if (init.cookie) headers.set('cookie', init.cookie)
  const method = init.method ?? 'POST'
  return new Request(`${APP_ORIGIN}${path}`, {
    method,
    headers,
    ...(method !== 'GET' && method !== 'HEAD' && { body: '{}' }),
  })
}

/** A logger that keeps every line as JSON text, so tests can search it for secrets. */
export function captureLogger(): {
  logger: {
    info: (f: Record<string, unknown>, m: string) => void
    warn: (f: Record<string, unknown>, m: string) => void
  }
  text: () => string
  lines: string[]
} {
  const lines: string[] = []
  const write = (level: string) => (fields: Record<string, unknown>, message: string) => {
    lines.push(JSON.stringify({ level, ...fields, message }))
  }
  return { logger: { info: write('info'), warn: write('warn') }, lines, text: () => lines.join('\n') }
}

/** `Set-Cookie` parsed into name, value and attributes (lower-cased names). */
export function parseSetCookie(header: string): { name: string; value: string; attrs: Map<string, string | true> } {
  const [pair = '', ...rest] = header.split(';').map((s) => s.trim())
  const eq = pair.indexOf('=')
  const attrs = new Map<string, string | true>()
  for (const a of rest) {
    const i = a.indexOf('=')
    if (i < 0) attrs.set(a.toLowerCase(), true)
    else attrs.set(a.slice(0, i).toLowerCase(), a.slice(i + 1))
  }
  return { name: pair.slice(0, eq), value: pair.slice(eq + 1), attrs }
}

/**
 * The token cookie's `Max-Age` against a real voice API on the real clock. The app kit sets
 * `min(lifetime, exp - floor(now))` with `now` read after the mint, so every whole second that ticks
 * over between the voice API's `iat` and that read takes one off: under load 59 is as right as 60.
 * Exact bounds instead of luck: `before`/`after` are `Date.now()` around the request.
 */
export function assertCookieLifetime(
  maxAge: string | true | undefined,
  t: { exp: number; lifetime: number; before: number; after: number },
): void {
  const seconds = Number(maxAge)
  const ticks = Math.floor(t.after / 1000) - Math.floor(t.before / 1000)
  if (!(Number.isInteger(seconds) && seconds <= t.lifetime && seconds >= t.lifetime - ticks)) {
    throw new Error(`Max-Age ${String(maxAge)} is not within ${t.lifetime - ticks}..${t.lifetime}`)
  }
  // Never outlives the token: it was set no earlier than `before`.
  if (Math.floor(t.before / 1000) + seconds > t.exp) throw new Error(`Max-Age ${seconds} outlives exp ${t.exp}`)
}
