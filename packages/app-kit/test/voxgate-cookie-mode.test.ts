/**
 * The app kit against a real voxgate in cookie mode (`allowedOrigins` + `tokenCookieName`): the
 * cookie the app kit sets is what voxgate reads, only from the app's origin, over HTTP and the
 * WebSocket, and CORS grants exactly that origin.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { decodeJwt } from 'jose'
import { createAppKit, type AppKit } from '../src/index.ts'
import { startTestServer, type TestServer } from '../../server/test/helpers/server.ts'
import { bearer, call } from '../../server/test/helpers/http.ts'
import { handshake, wsUrl } from '../../server/test/helpers/ws.ts'
import { assertCookieLifetime, captureLogger, parseSetCookie } from './helpers/fake-voice-api.ts'

const APP = 'https://localhost:4443'
const FOREIGN = 'https://evil.example.test'
const COOKIE = 'voxgate_token'
const LIFETIME = 30
const FORMAT = { container: 'raw', encoding: 'pcm_s16le', sample_rate: 16000 } as const

let t: TestServer
let kit: AppKit
let memoryKit: AppKit
let voiceId = ''
const tokensSeen: string[] = []

before(async () => {
  t = await startTestServer({ allowedOrigins: [APP], tokenCookieName: COOKIE })
  const common = {
    voiceApiUrl: t.url,
    apiKey: t.apiKey,
    allowedOrigins: [APP],
    authenticate: () => ({ id: 'alice' }),
    expiresInSeconds: LIFETIME,
    cookie: { name: COOKIE },
  }
  kit = createAppKit({ ...common, mode: 'cookie' })
  memoryKit = createAppKit({ ...common, mode: 'memory', revokeOnSignOut: true })
  const voices = await call(t.url, '/voices?limit=1', { headers: bearer(t.apiKey) })
  voiceId = voices.json.data[0].id
})
after(() => t.close())

const fromApp = (path: string, kitRoute: AppKit['tokenRoute']) =>
  kitRoute(
    new Request(`${APP}${path}`, {
      method: 'POST',
      headers: { origin: APP, 'content-type': 'application/json' },
      body: '{}',
    }),
  )

/** Mints through the app kit and returns the raw Set-Cookie header and the token it carries. */
async function cookieFromAppKit(): Promise<{
  header: string
  token: string
  body: any
  before: number
  after: number
}> {
  const before = Date.now()
  const res = await fromApp('/api/voice-token', kit.tokenRoute)
  const after = Date.now()
  assert.equal(res.status, 200, await res.clone().text())
  const header = res.headers.getSetCookie()[0] ?? ''
  const token = parseSetCookie(header).value
  tokensSeen.push(token)
  return { header, token, body: await res.json(), before, after }
}

const speak = (headers: Record<string, string>) =>
  call(t.url, '/tts/bytes', {
    headers,
    body: {
      model_id: 'sonic-3',
      transcript: 'Hello there.',
      voice: { mode: 'id', id: voiceId },
      output_format: FORMAT,
    },
  })

describe('app kit + voxgate, cookie mode', () => {
  test("the real Set-Cookie: HttpOnly, Secure, SameSite=Strict, Max-Age = lifetime, Path=/; the token is voxgate's, for the user", async () => {
    const { header, token, body, before, after } = await cookieFromAppKit()
    const c = parseSetCookie(header)
    assert.equal(c.name, COOKIE)
    assert.equal(c.attrs.get('httponly'), true)
    assert.equal(c.attrs.get('secure'), true)
    assert.equal(c.attrs.get('samesite'), 'Strict')
    assert.equal(c.attrs.get('path'), '/')
    const claims = decodeJwt(token)
    assertCookieLifetime(c.attrs.get('max-age'), { exp: claims.exp!, lifetime: LIFETIME, before, after })
    assert.equal(claims.sub, 'alice')
    assert.deepEqual(claims.grants, { tts: true })
    assert.equal(body.expires_at, claims.exp)
    assert.equal(body.issued_at, claims.iat)
    assert.equal(body.token, undefined)
  })

  test("the cookie alone, from the app's origin, speaks", async () => {
    const { token } = await cookieFromAppKit()
    const res = await speak({ origin: APP, cookie: `other=1; ${COOKIE}=${token}` })
    assert.equal(res.status, 200, res.text)
    assert.ok(res.text.length > 0)
  })

  test('the cookie from a foreign Origin is 403 origin_not_allowed', async () => {
    const { token } = await cookieFromAppKit()
    const res = await speak({ origin: FOREIGN, cookie: `${COOKIE}=${token}` })
    assert.equal(res.status, 403)
    assert.equal(res.json.error_code, 'origin_not_allowed')
  })

  test('the cookie without any Origin is 403 too (a cookie is only honoured from a named origin)', async () => {
    const { token } = await cookieFromAppKit()
    const res = await speak({ cookie: `${COOKIE}=${token}` })
    assert.equal(res.status, 403)
    assert.equal(res.json.error_code, 'origin_not_allowed')
  })

  test('a WebSocket handshake from a foreign Origin carrying the cookie is refused with 403 before the upgrade', async () => {
    const { token } = await cookieFromAppKit()
    const hs = await handshake(wsUrl(t.url), { origin: FOREIGN, cookie: `${COOKIE}=${token}` })
    assert.equal(hs.status, 403)
    assert.equal(JSON.parse(hs.body).error_code, 'origin_not_allowed')
    assert.equal(hs.ws, undefined)
  })

  test("the same handshake from the app's origin opens", async () => {
    const { token } = await cookieFromAppKit()
    const hs = await handshake(wsUrl(t.url), { origin: APP, cookie: `${COOKIE}=${token}` })
    assert.equal(hs.status, 101)
    hs.ws?.close()
  })

  test('after sign-out the cleared cookie carries nothing: voxgate says missing_credentials', async () => {
    const cleared = parseSetCookie((await fromApp('/api/sign-out', kit.signOutRoute)).headers.getSetCookie()[0] ?? '')
    assert.equal(cleared.attrs.get('max-age'), '0')
    const res = await speak({ origin: APP, cookie: `${COOKIE}=${cleared.value}` })
    assert.equal(res.status, 401)
    assert.equal(res.json.error_code, 'missing_credentials')
  })
})

describe('voxgate CORS with an allowlist', () => {
  const PROTOCOL_HEADERS = [
    'authorization',
    'content-type',
    'cartesia-version',
    'x-cartesia-client',
    'x-stainless-lang',
    'x-stainless-package-version',
    'x-stainless-os',
    'x-stainless-arch',
    'x-stainless-runtime',
    'x-stainless-runtime-version',
    'x-stainless-retry-count',
    'x-stainless-timeout',
  ]

  const preflight = (origin: string) =>
    fetch(`${t.url}/tts/bytes`, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': PROTOCOL_HEADERS.join(','),
      },
    })

  test('an allowed origin gets exactly itself, with credentials, and the PROTOCOL.md §0.8 headers', async () => {
    const res = await preflight(APP)
    assert.equal(res.headers.get('access-control-allow-origin'), APP)
    assert.equal(res.headers.get('access-control-allow-credentials'), 'true')
    assert.match(res.headers.get('vary') ?? '', /origin/i)
    const allowed = (res.headers.get('access-control-allow-headers') ?? '')
      .split(',')
      .map((h) => h.trim().toLowerCase())
    for (const h of PROTOCOL_HEADERS) assert.ok(allowed.includes(h), `missing ${h}`)
    assert.match(res.headers.get('access-control-allow-methods') ?? '', /POST/)
  })

  test('a foreign origin gets no CORS grant at all, on preflight or on the real request', async () => {
    const pre = await preflight(FOREIGN)
    assert.equal(pre.headers.get('access-control-allow-origin'), null)
    assert.equal(pre.headers.get('access-control-allow-credentials'), null)
    const { token } = await cookieFromAppKit()
    const res = await speak({ origin: FOREIGN, cookie: `${COOKIE}=${token}` })
    assert.equal(res.headers.get('access-control-allow-origin'), null)
  })

  test("an allowed origin's real request is granted with credentials", async () => {
    const { token } = await cookieFromAppKit()
    const res = await speak({ origin: APP, cookie: `${COOKIE}=${token}` })
    assert.equal(res.headers.get('access-control-allow-origin'), APP)
    assert.equal(res.headers.get('access-control-allow-credentials'), 'true')
  })
})

describe('app kit + voxgate, memory mode', () => {
  test('the JSON token works as a Bearer; sign-out with revokeOnSignOut kills it at once', async () => {
    const res = await fromApp('/api/voice-token', memoryKit.tokenRoute)
    const { token } = await res.json()
    tokensSeen.push(token)
    assert.deepEqual(res.headers.getSetCookie(), [])
    assert.equal((await speak(bearer(token))).status, 200)
    assert.equal((await fromApp('/api/sign-out', memoryKit.signOutRoute)).status, 200)
    const after = await speak(bearer(token))
    assert.equal(after.status, 401)
    assert.equal(after.json.error_code, 'token_revoked')
    // Signing straight back in (same second as the revocation) gives a token that works.
    const again = (await (await fromApp('/api/voice-token', memoryKit.tokenRoute)).json()).token
    tokensSeen.push(again)
    assert.equal((await speak(bearer(again))).status, 200)
  })

  test('a wrong API key: 502 mint_failed, the key not in the answer; the log names status and error_code', async () => {
    const wrongKey = `${t.apiKey.slice(0, -4)}zzzz`
    const log = captureLogger()
    const bad = createAppKit({
      logger: log.logger,
      voiceApiUrl: t.url,
      apiKey: wrongKey,
      allowedOrigins: [APP],
      authenticate: () => ({ id: 'alice' }),
      mode: 'memory',
    })
    const res = await fromApp('/api/voice-token', bad.tokenRoute)
    assert.equal(res.status, 502)
    const text = await res.text()
    assert.equal(JSON.parse(text).error_code, 'mint_failed')
    assert.ok(!text.includes(wrongKey) && !text.includes(t.apiKey))
    const failed = log.lines.map((l) => JSON.parse(l)).find((l) => l.message === 'voice token mint failed')
    assert.equal(failed?.reason, 'status 401 invalid_credentials')
    assert.ok(!log.text().includes(wrongKey))
  })

  test("voxgate's logs never contain a token or the API key", () => {
    assert.ok(tokensSeen.length >= 5)
    const logs = t.logs.text()
    assert.ok(logs.length > 0)
    for (const token of tokensSeen) assert.ok(!logs.includes(token))
    assert.ok(!logs.includes(t.apiKey))
  })
})
