/**
 * Cookie mode and CORS: a cookie rides along with every cross-site request, so it is honoured only
 * from an allowed Origin; preflights grant exactly the allowlist.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { call, mint } from '../helpers/http.ts'
import { handshake, wsUrl } from '../helpers/ws.ts'

const APP = 'https://app.example'
const EVIL = 'https://evil.example'
let t: TestServer
let token: string
before(async () => {
  t = await startTestServer({ tokenCookieName: 'vx_token', allowedOrigins: [APP] })
  token = await mint(t.url, t.apiKey, { grants: { tts: true, voices: true }, expires_in: 600 })
})
after(() => t.close())

const cookie = (): Record<string, string> => ({ cookie: `theme=dark; vx_token=${token}; other=1` })
const voices = (headers: Record<string, string>) => call(t.url, '/voices', { headers })

describe('cookie mode', () => {
  test('cookie + allowed Origin → 200 with the CORS grant', async () => {
    const res = await voices({ ...cookie(), origin: APP })
    assert.equal(res.status, 200, res.text)
    assert.equal(res.headers.get('access-control-allow-origin'), APP)
    assert.equal(res.headers.get('access-control-allow-credentials'), 'true')
  })

  test('cookie + foreign Origin → 403 origin_not_allowed, and no CORS grant', async () => {
    const res = await voices({ ...cookie(), origin: EVIL })
    assert.equal(res.status, 403)
    assert.equal(res.json.error_code, 'origin_not_allowed')
    assert.equal(res.headers.get('access-control-allow-origin'), null)
  })

  test('cookie + no Origin (or Origin: null) → 403 origin_not_allowed', async () => {
    for (const headers of [cookie(), { ...cookie(), origin: 'null' }]) {
      const res = await voices(headers)
      assert.equal(res.status, 403)
      assert.equal(res.json.error_code, 'origin_not_allowed')
    }
  })

  test('an origin that merely starts like the allowed one is foreign', async () => {
    for (const origin of [`${APP}.evil.example`, `${APP}:444`, 'http://app.example', 'https://APP.example ']) {
      const res = await voices({ ...cookie(), origin })
      assert.equal(res.status, 403, origin)
      assert.equal(res.json.error_code, 'origin_not_allowed', origin)
    }
  })

  test('a Bearer header from a foreign Origin is not a cookie: it is not refused for the origin', async () => {
    const res = await voices({ authorization: `Bearer ${token}`, origin: EVIL })
    assert.equal(res.status, 200, res.text)
    assert.equal(res.headers.get('access-control-allow-origin'), null, 'but the browser gets no CORS grant')
  })

  test('WebSocket handshake with the cookie from a foreign Origin → HTTP 403 before the upgrade', async () => {
    const h = await handshake(wsUrl(t.url), { ...cookie(), origin: EVIL })
    assert.equal(h.status, 403)
    assert.equal(JSON.parse(h.body).error_code, 'origin_not_allowed')
    assert.ok(!h.body.includes(token))
  })

  test('WebSocket handshake with the cookie and no Origin → 403', async () => {
    const h = await handshake(wsUrl(t.url), cookie())
    assert.equal(h.status, 403)
    assert.equal(JSON.parse(h.body).error_code, 'origin_not_allowed')
  })

  test('WebSocket handshake with the cookie from the allowed Origin opens', async () => {
    const h = await handshake(wsUrl(t.url), { ...cookie(), origin: APP })
    assert.equal(h.status, 101)
    h.ws?.close()
  })

  test('a browser WebSocket with a query token from a foreign Origin is refused too (allowlist set)', async () => {
    const h = await handshake(wsUrl(t.url, `?access_token=${token}`), { origin: EVIL })
    assert.equal(h.status, 403)
    assert.equal(JSON.parse(h.body).error_code, 'origin_not_allowed')
  })
})

describe('CORS preflight', () => {
  const preflight = (origin: string) =>
    call(t.url, '/tts/bytes', {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type, cartesia-version, x-stainless-lang',
      },
    })

  test('from the allowed origin: exact ACAO, credentials, and the SDK headers', async () => {
    const res = await preflight(APP)
    assert.equal(res.status, 204)
    assert.equal(res.headers.get('access-control-allow-origin'), APP)
    assert.equal(res.headers.get('access-control-allow-credentials'), 'true')
    assert.match(res.headers.get('vary') ?? '', /origin/i)
    const allowed = (res.headers.get('access-control-allow-headers') ?? '')
      .split(',')
      .map((h) => h.trim().toLowerCase())
    for (const h of ['authorization', 'content-type', 'cartesia-version', 'x-api-key'])
      assert.ok(allowed.includes(h), `${h} in ${allowed.join(', ')}`)
    const stainless = allowed.filter((h) => h.startsWith('x-stainless-'))
    for (const h of [
      'x-stainless-lang',
      'x-stainless-package-version',
      'x-stainless-os',
      'x-stainless-arch',
      'x-stainless-runtime',
      'x-stainless-runtime-version',
      'x-stainless-retry-count',
      'x-stainless-timeout',
    ]) {
      assert.ok(stainless.includes(h), h)
    }
    assert.ok((res.headers.get('access-control-allow-methods') ?? '').includes('POST'))
  })

  test('from a foreign origin: no ACAO, no credentials grant', async () => {
    const res = await preflight(EVIL)
    assert.equal(res.headers.get('access-control-allow-origin'), null)
    assert.equal(res.headers.get('access-control-allow-credentials'), null)
    assert.equal(res.headers.get('access-control-allow-headers'), null)
  })

  test('never a wildcard when an allowlist is set', async () => {
    for (const origin of [APP, EVIL]) {
      const res = await call(t.url, '/', { headers: { origin } })
      assert.notEqual(res.headers.get('access-control-allow-origin'), '*')
    }
  })
})

describe('logs', () => {
  test('the cookie value never reaches the logs', () => {
    const logs = t.logs.text()
    assert.ok(!logs.includes(token))
    assert.ok(!logs.includes(token.split('.')[2]!))
  })
})
