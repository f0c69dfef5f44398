import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { clearTokenCookie, createAppKit, createSignOutRoute, type AppKitOptions } from '../src/index.ts'
import {
  API_KEY,
  APP_ORIGIN,
  VOICE_API,
  browserPost,
  captureLogger,
  fakeVoiceApi,
  jsonResponse,
  parseSetCookie,
  type Answer,
} from './helpers/fake-voice-api.ts'

const NOW_MS = 1_767_225_600_500
const alice = { id: 'user-alice' }
const ok: Answer = () => jsonResponse(200, { revoked: true })

function route(extra: Partial<AppKitOptions> = {}, answer: Answer = ok) {
  const api = fakeVoiceApi(answer)
  const log = captureLogger()
  const handler = createSignOutRoute({
    voiceApiUrl: VOICE_API,
    apiKey: API_KEY,
    allowedOrigins: [APP_ORIGIN],
    authenticate: () => alice,
    now: () => NOW_MS,
    fetch: api.fetch,
    logger: log.logger,
    ...extra,
  })
  return { handler, calls: api.calls, log }
}

function tokenCookieOf(res: Response, name = 'voxgate_token') {
  const cookie = res.headers
    .getSetCookie()
    .map(parseSetCookie)
    .find((c) => c.name === name)
  assert.ok(cookie, `no Set-Cookie for ${name}`)
  return cookie
}

describe('sign-out route', () => {
  test('clears the token cookie: empty, Max-Age=0, HttpOnly, Secure, SameSite=Strict, same Path', async () => {
    const { handler } = route()
    const res = await handler(browserPost('/sign-out'))
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('cache-control'), 'no-store')
    assert.deepEqual(await res.json(), { signed_out: true })
    const c = tokenCookieOf(res)
    assert.equal(c.value, '')
    assert.equal(c.attrs.get('max-age'), '0')
    assert.equal(c.attrs.get('httponly'), true)
    assert.equal(c.attrs.get('secure'), true)
    assert.equal(c.attrs.get('samesite'), 'Strict')
    assert.equal(c.attrs.get('path'), '/')
  })

  test('clears with the configured name, path and domain (a cookie is only cleared by its own attributes)', async () => {
    const { handler } = route({ cookie: { name: 'voice', path: '/v', domain: 'example.test' } })
    const c = tokenCookieOf(await handler(browserPost('/sign-out')), 'voice')
    assert.equal(c.attrs.get('path'), '/v')
    assert.equal(c.attrs.get('domain'), 'example.test')
    assert.equal(c.attrs.get('max-age'), '0')
  })

  test("runs the app's signOut and passes on its cookies", async () => {
    let ended = 0
    const { handler } = route({
      signOut: () => {
        ended++
        return { user: alice, setCookies: ['sid=; Max-Age=0; Path=/'] }
      },
    })
    const res = await handler(browserPost('/sign-out'))
    assert.equal(ended, 1)
    const names = res.headers
      .getSetCookie()
      .map((c) => parseSetCookie(c).name)
      .sort()
    assert.deepEqual(names, ['sid', 'voxgate_token'])
  })

  test('revokeOnSignOut revokes every token of the user minted up to this second', async () => {
    const { handler, calls } = route({ revokeOnSignOut: true })
    await handler(browserPost('/sign-out'))
    assert.equal(calls.length, 1)
    assert.equal(calls[0]!.url, `${VOICE_API}/access-token/revoke`)
    assert.equal(calls[0]!.headers.get('authorization'), `Bearer ${API_KEY}`)
    assert.deepEqual(calls[0]!.body, { sub: alice.id, issued_before: Math.floor(NOW_MS / 1000) + 1 })
  })

  test('a token minted right after revocation is not born revoked: the route waits for the cutoff second', async () => {
    const start = Date.now()
    const now = () => NOW_MS + (Date.now() - start) // 500 ms into a second, moving with real time
    const mintedAt: number[] = []
    const api = fakeVoiceApi((call) => {
      if (call.url.endsWith('/access-token')) mintedAt.push(now())
      return jsonResponse(200, call.url.endsWith('/revoke') ? { revoked: true } : { token: 'opaque' })
    })
    const kit = createAppKit({
      voiceApiUrl: VOICE_API,
      apiKey: API_KEY,
      allowedOrigins: [APP_ORIGIN],
      authenticate: () => alice,
      revokeOnSignOut: true,
      mode: 'memory',
      now,
      fetch: api.fetch,
    })
    await kit.signOutRoute(browserPost('/sign-out'))
    const cutoff = api.calls[0]!.body.issued_before as number
    assert.equal((await kit.tokenRoute(browserPost('/t'))).status, 200)
    assert.ok(mintedAt[0]! >= cutoff * 1000, 'minted inside the revoked second')
    // Once past, later mints do not wait again (nothing is left to wait for).
    await kit.tokenRoute(browserPost('/t'))
    assert.equal(mintedAt.length, 2)
  })

  test('a timer that fires before the clock reaches the cutoff does not let a mint through early', async (t) => {
    // Timers run on a cached monotonic clock, the cutoff on the wall clock: one sleep is not proof.
    t.mock.timers.enable({ apis: ['setTimeout'] })
    let clock = NOW_MS
    const mintedAt: number[] = []
    const api = fakeVoiceApi((call) => {
      if (call.url.endsWith('/access-token')) mintedAt.push(clock)
      return jsonResponse(200, call.url.endsWith('/revoke') ? { revoked: true } : { token: 'opaque' })
    })
    const kit = createAppKit({
      voiceApiUrl: VOICE_API,
      apiKey: API_KEY,
      allowedOrigins: [APP_ORIGIN],
      authenticate: () => alice,
      revokeOnSignOut: true,
      mode: 'memory',
      now: () => clock,
      fetch: api.fetch,
    })
    await kit.signOutRoute(browserPost('/sign-out'))
    const cutoffMs = (api.calls[0]!.body.issued_before as number) * 1000
    const minted = kit.tokenRoute(browserPost('/t'))
    const settle = () => new Promise((resolve) => setImmediate(resolve))
    await settle()
    clock = cutoffMs - 100 // the timer fires, but the wall clock is 100 ms short
    t.mock.timers.tick(cutoffMs - NOW_MS + 1)
    await settle()
    assert.deepEqual(mintedAt, [], 'minted inside the revoked second')
    clock = cutoffMs + 5
    t.mock.timers.tick(2000)
    assert.equal((await minted).status, 200)
    assert.deepEqual(mintedAt, [cutoffMs + 5])
  })

  test('without revokeOnSignOut the voice API is not called', async () => {
    const { handler, calls } = route()
    await handler(browserPost('/sign-out'))
    assert.equal(calls.length, 0)
  })

  test('a failing revocation still signs out, and the log has no key', async () => {
    const { handler, log } = route({ revokeOnSignOut: true }, () => new Response(`down ${API_KEY}`, { status: 503 }))
    const res = await handler(browserPost('/sign-out'))
    assert.equal(res.status, 200)
    assert.equal(tokenCookieOf(res).attrs.get('max-age'), '0')
    assert.match(log.text(), /revocation failed/)
    assert.ok(!log.text().includes(API_KEY))
  })

  test('signing out when signed out is fine (idempotent) and revokes nothing', async () => {
    const { handler, calls } = route({ authenticate: () => null, revokeOnSignOut: true })
    const res = await handler(browserPost('/sign-out'))
    assert.equal(res.status, 200)
    assert.equal(calls.length, 0)
  })

  test('the same guards as the token route: 405, 403, 415', async () => {
    const { handler } = route()
    assert.equal((await handler(browserPost('/sign-out', { method: 'GET' }))).status, 405)
    assert.equal((await handler(browserPost('/sign-out', { origin: 'https://evil.example.test' }))).status, 403)
    assert.equal((await handler(browserPost('/sign-out', { contentType: 'text/plain' }))).status, 415)
  })

  test('clearTokenCookie and kit.clearTokenCookie give the same header', () => {
    const kit = createAppKit({
      voiceApiUrl: VOICE_API,
      apiKey: API_KEY,
      allowedOrigins: [APP_ORIGIN],
      authenticate: () => null,
      cookie: { name: 'v', path: '/p' },
    })
    assert.equal(kit.clearTokenCookie(), clearTokenCookie({ name: 'v', path: '/p' }))
    assert.equal(clearTokenCookie(), 'voxgate_token=; HttpOnly; Secure; SameSite=Strict; Max-Age=0; Path=/')
  })
})

describe('sign-out-everywhere route', () => {
  function everywhere(extra: Partial<AppKitOptions> = {}, answer: Answer = ok) {
    const api = fakeVoiceApi(answer)
    let ended = 0
    const kit = createAppKit({
      voiceApiUrl: VOICE_API,
      apiKey: API_KEY,
      allowedOrigins: [APP_ORIGIN],
      authenticate: () => alice,
      now: () => NOW_MS,
      fetch: api.fetch,
      signOutEverywhere: () => {
        ended++
        return { user: alice, setCookies: ['sid=; Max-Age=0; Path=/'] }
      },
      ...extra,
    })
    return { handler: kit.signOutEverywhereRoute, calls: api.calls, ended: () => ended }
  }

  test("ends every session (signOutEverywhere), revokes all the user's tokens even without revokeOnSignOut, clears both cookies", async () => {
    const { handler, calls, ended } = everywhere()
    const res = await handler(browserPost('/sign-out-everywhere'))
    assert.equal(res.status, 200)
    assert.deepEqual(await res.json(), { signed_out: true })
    assert.equal(ended(), 1)
    assert.deepEqual(
      calls.map((c) => [c.url, c.body]),
      [[`${VOICE_API}/access-token/revoke`, { sub: alice.id, issued_before: Math.floor(NOW_MS / 1000) + 1 }]],
    )
    assert.deepEqual(
      res.headers
        .getSetCookie()
        .map((c) => parseSetCookie(c).name)
        .sort(),
      ['sid', 'voxgate_token'],
    )
    assert.equal(tokenCookieOf(res).attrs.get('max-age'), '0')
  })

  test('signed out already: 200, nothing revoked', async () => {
    const { handler, calls } = everywhere({ signOutEverywhere: () => ({ user: null }) })
    assert.equal((await handler(browserPost('/sign-out-everywhere'))).status, 200)
    assert.equal(calls.length, 0)
  })

  test('without the signOutEverywhere option the route is a 500 (an app bug), and revokes nothing', async () => {
    const { handler, calls } = everywhere({ signOutEverywhere: undefined })
    const res = await handler(browserPost('/sign-out-everywhere'))
    assert.equal(res.status, 500)
    assert.equal((await res.json()).error_code, 'internal_error')
    assert.equal(calls.length, 0)
  })

  test('the same guards: 405, 403, 415, and nothing ended', async () => {
    const { handler, ended } = everywhere()
    assert.equal((await handler(browserPost('/x', { method: 'GET' }))).status, 405)
    assert.equal((await handler(browserPost('/x', { origin: 'https://evil.example.test' }))).status, 403)
    assert.equal((await handler(browserPost('/x', { contentType: 'text/plain' }))).status, 415)
    assert.equal(ended(), 0)
  })
})
