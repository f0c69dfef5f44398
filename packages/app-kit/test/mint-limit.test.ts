/** The token route throttles minting per session (`mintLimit`): 429 rate_limited with Retry-After. */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createAppKit, type AppKitOptions, type VoiceUser } from '../src/index.ts'
import {
  API_KEY,
  APP_ORIGIN,
  VOICE_API,
  browserPost,
  captureLogger,
  fakeVoiceApi,
  jsonResponse,
} from './helpers/fake-voice-api.ts'

const START_MS = 1_767_225_600_500

function kit(extra: Partial<AppKitOptions> = {}, user: () => VoiceUser = () => ({ id: 'alice', session: 's1' })) {
  let t = START_MS
  const api = fakeVoiceApi((call) =>
    jsonResponse(200, call.url.endsWith('/revoke') ? { revoked: true } : { token: 'opaque-token' }),
  )
  const log = captureLogger()
  const k = createAppKit({
    voiceApiUrl: VOICE_API,
    apiKey: API_KEY,
    allowedOrigins: [APP_ORIGIN],
    mode: 'memory',
    authenticate: user,
    now: () => t,
    fetch: api.fetch,
    logger: log.logger,
    ...extra,
  })
  const mints = () => api.calls.filter((c) => c.url.endsWith('/access-token')).length
  return {
    route: k.tokenRoute,
    mints,
    log,
    advance: (ms: number) => {
      t += ms
    },
  }
}

const statuses = async (route: (r: Request) => Promise<Response>, n: number): Promise<number[]> =>
  (await Promise.all(Array.from({ length: n }, () => route(browserPost('/t'))))).map((r) => r.status)

describe('token route: mints per session', () => {
  test('one session asking 100 times at once gets the default 30 tokens; the other 70 are 429 and mint nothing', async () => {
    const { route, mints } = kit()
    const got = await statuses(route, 100)
    assert.equal(got.filter((s) => s === 200).length, 30)
    assert.equal(got.filter((s) => s === 429).length, 70)
    assert.equal(mints(), 30)
  })

  test('the 429 is rate_limited, no-store, with Retry-After = seconds left in the window, and is logged', async () => {
    const { route, advance, log } = kit({ mintLimit: { max: 2, windowSeconds: 60 } })
    await statuses(route, 2)
    advance(20_000)
    const res = await route(browserPost('/t'))
    assert.equal(res.status, 429)
    assert.equal(res.headers.get('retry-after'), '40')
    assert.equal(res.headers.get('cache-control'), 'no-store')
    const body = await res.json()
    assert.equal(body.error_code, 'rate_limited')
    assert.match(body.request_id, /^[0-9a-f-]{36}$/)
    assert.match(log.text(), /voice token mint throttled/)
  })

  test('the window ends: minting works again', async () => {
    const { route, advance } = kit({ mintLimit: { max: 2, windowSeconds: 60 } })
    assert.deepEqual(await statuses(route, 3), [200, 200, 429])
    advance(59_999)
    assert.equal((await route(browserPost('/t'))).status, 429)
    advance(1)
    assert.equal((await route(browserPost('/t'))).status, 200)
  })

  test("sessions are counted apart; the same user's other session still mints", async () => {
    let session = 's1'
    const { route } = kit({ mintLimit: { max: 2, windowSeconds: 60 } }, () => ({ id: 'alice', session }))
    assert.deepEqual(await statuses(route, 3), [200, 200, 429])
    session = 's2'
    assert.equal((await route(browserPost('/t'))).status, 200)
  })

  test('without a session id the limit is per user', async () => {
    let id = 'alice'
    const { route } = kit({ mintLimit: { max: 1, windowSeconds: 60 } }, () => ({ id }))
    assert.deepEqual(await statuses(route, 2), [200, 429])
    id = 'bob'
    assert.equal((await route(browserPost('/t'))).status, 200)
  })

  test('a failed mint counts too (a broken voice API is not hammered)', async () => {
    const t = START_MS
    const api = fakeVoiceApi(() => jsonResponse(503, {}))
    const { tokenRoute } = createAppKit({
      voiceApiUrl: VOICE_API,
      apiKey: API_KEY,
      allowedOrigins: [APP_ORIGIN],
      authenticate: () => ({ id: 'alice' }),
      mintLimit: { max: 2, windowSeconds: 60 },
      now: () => t,
      fetch: api.fetch,
    })
    assert.deepEqual(await statuses(tokenRoute, 3), [502, 502, 429])
    assert.equal(api.calls.length, 2)
  })

  test('signed-out requests are 401 and are not counted against anyone', async () => {
    let user: VoiceUser | null = null
    const { route } = kit({ mintLimit: { max: 1, windowSeconds: 60 } }, () => user as VoiceUser)
    assert.deepEqual(await statuses(route, 5), [401, 401, 401, 401, 401])
    user = { id: 'alice', session: 's1' }
    assert.equal((await route(browserPost('/t'))).status, 200)
  })

  test('mintLimit: false turns the throttle off', async () => {
    const { route } = kit({ mintLimit: false })
    assert.ok((await statuses(route, 100)).every((s) => s === 200))
  })

  test('an empty session id from authenticate is a 500, not a shared bucket', async () => {
    const { route, mints } = kit({}, () => ({ id: 'alice', session: '' }))
    assert.equal((await route(browserPost('/t'))).status, 500)
    assert.equal(mints(), 0)
  })

  for (const bad of [
    { max: 0, windowSeconds: 60 },
    { max: 10, windowSeconds: 0 },
    { max: 2.5, windowSeconds: 60 },
    'many' as never,
  ]) {
    test(`mintLimit ${JSON.stringify(bad)} is a TypeError at start-up`, () => {
      assert.throws(
        () =>
          createAppKit({
            voiceApiUrl: VOICE_API,
            apiKey: API_KEY,
            allowedOrigins: [APP_ORIGIN],
            authenticate: () => null,
            mintLimit: bad,
          }),
        TypeError,
      )
    })
  }
})
