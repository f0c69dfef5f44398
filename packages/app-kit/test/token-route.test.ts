import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createAppKit, createTokenRoute, type AppKitOptions } from '../src/index.ts'
import {
  API_KEY,
  APP_ORIGIN,
  VOICE_API,
  browserPost,
  captureLogger,
  fakeJwt,
  fakeVoiceApi,
  jsonResponse,
  parseSetCookie,
  type Answer,
} from './helpers/fake-voice-api.ts'

const NOW_MS = 1_767_225_600_500
const NOW_S = Math.floor(NOW_MS / 1000)
const alice = { id: 'user-alice' }

function kit(answer: Answer, extra: Partial<AppKitOptions> = {}) {
  const api = fakeVoiceApi(answer)
  const log = captureLogger()
  const route = createTokenRoute({
    voiceApiUrl: VOICE_API,
    apiKey: API_KEY,
    allowedOrigins: [APP_ORIGIN],
    authenticate: () => alice,
    expiresInSeconds: 30,
    now: () => NOW_MS,
    fetch: api.fetch,
    logger: log.logger,
    ...extra,
  })
  return { route, calls: api.calls, log }
}

const jwt = fakeJwt({ iat: NOW_S, exp: NOW_S + 30, sub: alice.id })
const mints: Answer = () => jsonResponse(200, { token: jwt })

async function assertError(res: Response, status: number, code: string): Promise<any> {
  assert.equal(res.status, status)
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/)
  assert.equal(res.headers.get('cache-control'), 'no-store')
  const body = await res.json()
  assert.equal(body.error_code, code)
  assert.equal(typeof body.message, 'string')
  assert.match(body.request_id, /^[0-9a-f-]{36}$/)
  return body
}

describe('token route: who may ask', () => {
  for (const method of ['GET', 'PUT', 'DELETE']) {
    test(`${method} is 405 with Allow: POST, and mints nothing`, async () => {
      const { route, calls } = kit(mints)
      const res = await route(browserPost('/t', { method }))
      await assertError(res, 405, 'method_not_allowed')
      assert.equal(res.headers.get('allow'), 'POST')
      assert.equal(calls.length, 0)
    })
  }

  for (const [name, origin] of [
    ['a foreign Origin', 'https://evil.example.test'],
    ['a sibling port', 'https://app.example.test:8443'],
    ['Origin null', 'null'],
    ['no Origin', null],
  ] as const) {
    test(`${name} is 403 origin_not_allowed (CSRF)`, async () => {
      const { route, calls } = kit(mints)
      await assertError(await route(browserPost('/t', { origin })), 403, 'origin_not_allowed')
      assert.equal(calls.length, 0)
    })
  }

  for (const contentType of [
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    null,
  ]) {
    test(`content type ${String(contentType)} is 415`, async () => {
      const { route, calls } = kit(mints)
      await assertError(await route(browserPost('/t', { contentType })), 415, 'unsupported_media_type')
      assert.equal(calls.length, 0)
    })
  }

  test('application/json with a charset is accepted', async () => {
    const { route } = kit(mints, { mode: 'memory' })
    assert.equal((await route(browserPost('/t', { contentType: 'Application/JSON; charset=utf-8' }))).status, 200)
  })

  test('nobody signed in: 401 signed_out, nothing minted, and cookie mode clears a leftover cookie', async () => {
    const { route, calls } = kit(mints, { authenticate: async () => null })
    const res = await route(browserPost('/t'))
    await assertError(res, 401, 'signed_out')
    assert.equal(calls.length, 0)
    const [cookie] = res.headers.getSetCookie()
    assert.ok(cookie)
    assert.equal(parseSetCookie(cookie).attrs.get('max-age'), '0')
  })

  test('nobody signed in, memory mode: 401 and no Set-Cookie', async () => {
    const { route } = kit(mints, { authenticate: () => null, mode: 'memory' })
    const res = await route(browserPost('/t'))
    await assertError(res, 401, 'signed_out')
    assert.deepEqual(res.headers.getSetCookie(), [])
  })

  test('authenticate throwing is a 500 that says nothing of the failure', async () => {
    const { route, log } = kit(mints, {
      authenticate: () => {
        throw new Error('db down: secret detail')
      },
    })
    const body = await assertError(await route(browserPost('/t')), 500, 'internal_error')
    assert.doesNotMatch(JSON.stringify(body), /secret detail/)
    assert.match(log.text(), /app-kit route failed/)
  })
})

describe('token route: minting', () => {
  test('asks the voice API with the API key, the grants, the lifetime and the user as sub', async () => {
    const { route, calls } = kit(mints, { grants: { tts: true } })
    await route(browserPost('/t'))
    assert.equal(calls.length, 1)
    const call = calls[0]!
    assert.equal(call.url, `${VOICE_API}/access-token`)
    assert.equal(call.method, 'POST')
    assert.equal(call.headers.get('authorization'), `Bearer ${API_KEY}`)
    assert.equal(call.headers.get('content-type'), 'application/json')
    assert.match(call.headers.get('cartesia-version') ?? '', /^\d{4}-\d{2}-\d{2}$/)
    assert.deepEqual(call.body, { grants: { tts: true }, expires_in: 30, sub: alice.id })
  })

  test('subject: false leaves sub out (Cartesia proper); a function maps the user', async () => {
    const a = kit(mints, { subject: false })
    await a.route(browserPost('/t'))
    assert.deepEqual(Object.keys(a.calls[0]!.body).sort(), ['expires_in', 'grants'])
    const b = kit(mints, { subject: (u) => `app1:${u.id}` })
    await b.route(browserPost('/t'))
    assert.equal(b.calls[0]!.body.sub, 'app1:user-alice')
  })

  test('memory mode: body {token, expires_at, issued_at} from the JWT, no cookie, no-store', async () => {
    const { route } = kit(mints, { mode: 'memory' })
    const res = await route(browserPost('/t'))
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('cache-control'), 'no-store')
    assert.deepEqual(res.headers.getSetCookie(), [])
    assert.deepEqual(await res.json(), { token: jwt, expires_at: NOW_S + 30, issued_at: NOW_S })
  })

  test('cookie mode: the token is only in an HttpOnly, Secure, SameSite=Strict cookie whose Max-Age is the lifetime', async () => {
    const { route } = kit(mints)
    const res = await route(browserPost('/t'))
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('cache-control'), 'no-store')
    const text = await res.text()
    assert.deepEqual(JSON.parse(text), { expires_at: NOW_S + 30, issued_at: NOW_S })
    assert.ok(!text.includes(jwt))
    const cookies = res.headers.getSetCookie()
    assert.equal(cookies.length, 1)
    const c = parseSetCookie(cookies[0]!)
    assert.equal(c.name, 'voxgate_token')
    assert.equal(c.value, jwt)
    assert.equal(c.attrs.get('httponly'), true)
    assert.equal(c.attrs.get('secure'), true)
    assert.equal(c.attrs.get('samesite'), 'Strict')
    assert.equal(c.attrs.get('max-age'), '30')
    assert.equal(c.attrs.get('path'), '/')
    assert.equal(c.attrs.has('domain'), false)
  })

  test('cookie name, path and domain are configurable', async () => {
    const { route } = kit(mints, { cookie: { name: '__Secure-voice', path: '/speech', domain: 'example.test' } })
    const c = parseSetCookie((await route(browserPost('/t'))).headers.getSetCookie()[0]!)
    assert.equal(c.name, '__Secure-voice')
    assert.equal(c.attrs.get('path'), '/speech')
    assert.equal(c.attrs.get('domain'), 'example.test')
  })

  test('the cookie never outlives the token when the API grants less than asked', async () => {
    const short = fakeJwt({ iat: NOW_S, exp: NOW_S + 10 })
    const { route } = kit(() => jsonResponse(200, { token: short }))
    const res = await route(browserPost('/t'))
    assert.equal(parseSetCookie(res.headers.getSetCookie()[0]!).attrs.get('max-age'), '10')
    assert.equal((await res.json()).expires_at, NOW_S + 10)
  })

  test('an opaque token expires now + expires_in', async () => {
    const { route } = kit(() => jsonResponse(200, { token: 'opaque-token_123' }), { mode: 'memory' })
    assert.deepEqual(await (await route(browserPost('/t'))).json(), {
      token: 'opaque-token_123',
      expires_at: NOW_S + 30,
      issued_at: NOW_S,
    })
  })

  test('logs the user id and expiry, never the token or the key', async () => {
    for (const mode of ['cookie', 'memory'] as const) {
      const { route, log } = kit(mints, { mode })
      await route(browserPost('/t'))
      const line = JSON.parse(log.lines.find((l) => l.includes('voice token minted'))!)
      assert.equal(line.user_id, alice.id)
      assert.equal(line.expires_at, NOW_S + 30)
      assert.ok(!log.text().includes(jwt))
      assert.ok(!log.text().includes(API_KEY))
    }
  })
})

describe('token route: the voice API fails', () => {
  const failures: [string, Answer][] = [
    ['401 from the API', () => jsonResponse(401, { error_code: 'invalid_credentials', message: `bad key ${API_KEY}` })],
    ['500 from the API', () => new Response(`oops ${API_KEY}`, { status: 500 })],
    ['a 200 without a token', () => jsonResponse(200, { nope: true })],
    ['a token with a cookie-breaking character', () => jsonResponse(200, { token: 'abc; Domain=evil' })],
    ['a body that is not JSON', () => new Response('<html>', { status: 200 })],
    [
      'a network error',
      () => {
        throw new TypeError('fetch failed')
      },
    ],
  ]
  for (const [name, answer] of failures) {
    test(`${name} → 502 mint_failed, without the API key, and logged without it`, async () => {
      const { route, log } = kit(answer)
      const res = await route(browserPost('/t'))
      const body = await assertError(res, 502, 'mint_failed')
      assert.ok(!JSON.stringify(body).includes(API_KEY))
      assert.deepEqual(res.headers.getSetCookie(), [])
      assert.match(log.text(), /voice token mint failed/)
      assert.ok(!log.text().includes(API_KEY))
    })
  }

  test('a voice API that never answers times out into a 502', async () => {
    // Never answers; only the app kit's own timeout signal can end the call, as with a real fetch.
    const { route } = kit(
      (call) =>
        new Promise((_, reject) => {
          // A real fetch holds a socket open meanwhile; without a handle, AbortSignal.timeout's unref'd
          // timer would let the event loop end before the timeout fires.
          const pendingSocket = setTimeout(() => undefined, 10_000)
          call.signal?.addEventListener('abort', () => {
            clearTimeout(pendingSocket)
            reject(call.signal?.reason)
          })
        }),
      { voiceApiTimeoutMs: 20 },
    )
    await assertError(await route(browserPost('/t')), 502, 'mint_failed')
  })
})

describe('options are checked when the app starts', () => {
  const base: AppKitOptions = {
    voiceApiUrl: VOICE_API,
    apiKey: API_KEY,
    allowedOrigins: [APP_ORIGIN],
    authenticate: () => null,
  }
  const bad: [string, Partial<AppKitOptions>][] = [
    ['http voice API', { voiceApiUrl: 'http://voice.example.test' }],
    ['empty API key', { apiKey: '' }],
    ['no origins', { allowedOrigins: [] }],
    ['an origin with a path', { allowedOrigins: ['https://app.example.test/'] }],
    ['lifetime 0', { expiresInSeconds: 0 }],
    ['lifetime 3601', { expiresInSeconds: 3601 }],
    ['cookie name with ;', { cookie: { name: 'a;b' } }],
    ['cookie path without /', { cookie: { path: 'x' } }],
    ['mode', { mode: 'local' as 'memory' }],
  ]
  for (const [name, patch] of bad) {
    test(`${name} is a TypeError that does not echo the key`, () => {
      assert.throws(
        () => createAppKit({ ...base, ...patch }),
        (err: unknown) => err instanceof TypeError && !err.message.includes(API_KEY),
      )
    })
  }
  test('lifetime 3600 and 1 are fine', () => {
    createAppKit({ ...base, expiresInSeconds: 3600 })
    createAppKit({ ...base, expiresInSeconds: 1 })
  })
})
