/**
 * Key rotation (issue 22 item 2): `POST /api-keys/:id/rotate` gives a key a new secret; the old one
 * works until the grace ends, then gets 401 api_key_expired; the key's id, and so its usage, quotas
 * and tokens, stay; one old secret at a time. On a controlled clock, on SQLite, and on two
 * instances sharing one PostgreSQL store.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { bearer, call, mint, type ApiResponse } from '../helpers/http.ts'
import { ManualClock } from '../helpers/clock.ts'
import { eventually } from '../helpers/controlled-speech.ts'
import { PgProxy, testSchema } from '../helpers/postgres.ts'
import { ttsBody, voiceIds } from '../helpers/security.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

const DAY_S = 86_400
const clock = new ManualClock(Date.UTC(2026, 5, 1, 12))
let t: TestServer
before(async () => {
  t = await startTestServer({}, { clock })
})
after(() => t.close())

function assertError(res: ApiResponse, status: number, code: string): void {
  assert.equal(res.status, status, res.text)
  assert.equal(res.json.error_code, code, res.text)
}
const asAdmin = (init: { method?: string; body?: unknown } = {}) => ({ ...init, headers: bearer(t.apiKey) })
const newKey = async (url = t.url, admin = t.apiKey) =>
  (await call(url, '/api-keys', { headers: bearer(admin), body: { name: 'app' } })).json as { id: string; key: string }
const rotate = (id: string, body?: unknown, url = t.url, admin = t.apiKey) =>
  call(url, `/api-keys/${id}/rotate`, { method: 'POST', headers: bearer(admin), ...(body !== undefined && { body }) })
/** The key's status as a mint with it answers: 200, or the error code. */
const mintWith = async (key: string, url = t.url) => {
  const res = await call(url, '/access-token', { headers: bearer(key), body: { expires_in: 3600 } })
  return res.status === 200 ? 200 : `${res.status} ${res.json.error_code}`
}
const iso = (ms: number) => new Date(ms).toISOString()

describe('POST /api-keys/:id/rotate', () => {
  test('200 with a new secret; the old one works until the grace ends, then 401 api_key_expired with WWW-Authenticate', async () => {
    const k = await newKey()
    const oldToken = await mint(t.url, k.key, { expires_in: 3600 })
    const rotated = await rotate(k.id, { grace_seconds: 60 })
    assert.equal(rotated.status, 200, rotated.text)
    assert.deepEqual(
      [rotated.json.id, rotated.json.rotating_until, rotated.json.prefix],
      [k.id, iso(clock.now() + 60_000), rotated.json.key.slice(0, 12)],
    )
    assert.match(rotated.json.key, /^sk_vx_[A-Za-z0-9_-]{43}$/)
    assert.notEqual(rotated.json.key, k.key)
    const newToken = await mint(t.url, rotated.json.key, { expires_in: 3600 })
    clock.advance(59_999)
    assert.deepEqual([await mintWith(k.key), await mintWith(rotated.json.key)], [200, 200])
    clock.advance(1)
    const res = await call(t.url, '/access-token', { headers: bearer(k.key), body: {} })
    assertError(res, 401, 'api_key_expired')
    assert.equal(res.headers.get('www-authenticate'), 'Bearer error="invalid_token"')
    assert.equal(await mintWith(rotated.json.key), 200)
    for (const token of [oldToken, newToken])
      assert.equal(
        (await call(t.url, '/access-token/self', { headers: bearer(token) })).status,
        200,
        'tokens stay valid',
      )
  })

  test('rotating_until in GET /api-keys and GET /api-keys/:id while the grace runs, null after', async () => {
    const k = await newKey()
    await rotate(k.id, { grace_seconds: 30 })
    const until = iso(clock.now() + 30_000)
    const listed = () =>
      call(t.url, '/api-keys', asAdmin()).then((r) => r.json.data.find((x: { id: string }) => x.id === k.id))
    assert.equal((await listed()).rotating_until, until)
    assert.equal((await call(t.url, `/api-keys/${k.id}`, asAdmin())).json.rotating_until, until)
    clock.advance(30_000)
    assert.equal((await listed()).rotating_until, null)
    assert.equal((await call(t.url, `/api-keys/${k.id}`, asAdmin())).json.rotating_until, null)
  })

  test('a second rotation ends the previous old secret at once: one old secret at a time', async () => {
    const k = await newKey()
    const second = (await rotate(k.id, { grace_seconds: 3600 })).json.key
    const third = (await rotate(k.id, { grace_seconds: 3600 })).json.key
    assert.deepEqual(
      [await mintWith(k.key), await mintWith(second), await mintWith(third)],
      ['401 invalid_credentials', 200, 200],
    )
  })

  test('grace_seconds: 0 ends the old secret at once; 604800 is the most; -1, 604801 and 1.5 are 400; default 86400', async () => {
    const k = await newKey()
    const now = clock.now()
    assert.equal((await rotate(k.id)).json.rotating_until, iso(now + DAY_S * 1000), 'no body: the default')
    assert.equal((await rotate(k.id, {})).json.rotating_until, iso(now + DAY_S * 1000))
    assert.equal((await rotate(k.id, { grace_seconds: 604_800 })).json.rotating_until, iso(now + 604_800_000))
    for (const grace of [-1, 604_801, 1.5, '60'])
      assertError(await rotate(k.id, { grace_seconds: grace }), 400, 'invalid_request')
    assertError(await rotate(k.id, { grace_seconds: 1, extra: true }), 400, 'invalid_request')
    const latest = (await rotate(k.id, { grace_seconds: 0 })).json
    assert.equal(latest.rotating_until, null, 'no grace: nothing is rotating')
    assert.equal(await mintWith(latest.key), 200)
  })

  test('grace 0: the replaced secret is 401 api_key_expired at once', async () => {
    const k = await newKey()
    await rotate(k.id, { grace_seconds: 0 })
    assert.equal(await mintWith(k.key), '401 api_key_expired')
  })

  test('404 for an unknown or revoked key; 403 for a read key; tokens never reach it', async () => {
    assertError(await rotate('key_nope'), 404, 'not_found')
    const k = await newKey()
    assert.equal((await call(t.url, `/api-keys/${k.id}`, asAdmin({ method: 'DELETE' }))).status, 204)
    assertError(await rotate(k.id), 404, 'not_found')
    const read = (await call(t.url, '/api-keys', asAdmin({ body: { name: 'r', scopes: ['read'] } }))).json.key
    assertError(await rotate(k.id, undefined, t.url, read), 403, 'insufficient_scope')
    const token = await mint(t.url, t.apiKey)
    assertError(await rotate(k.id, undefined, t.url, token), 403, 'api_key_required')
  })

  test('usage, quotas and the ledger stay on the same key id', async () => {
    const k = await newKey()
    const [voice] = (await voiceIds(t.url, t.apiKey, 1)) as [string]
    const quota = (
      await call(t.url, '/quotas', asAdmin({ method: 'PUT', body: { key_id: k.id, period: 'day', characters: 1000 } }))
    ).json
    const speak = (key: string) => call(t.url, '/tts/bytes', { headers: bearer(key), body: ttsBody(voice, 'Hello.') })
    assert.equal((await speak(k.key)).status, 200)
    const fresh = (await rotate(k.id, { grace_seconds: 600 })).json.key
    assert.equal((await speak(fresh)).status, 200)
    assert.equal((await speak(k.key)).status, 200, 'the old secret, within the grace')
    const day = iso(clock.now()).slice(0, 10)
    await eventually(
      async () =>
        (await call(t.url, `/usage?key_id=${k.id}&from=${day}&to=${day}`, asAdmin())).json.totals.streams === 3,
      'three streams on one key id in the ledger',
    )
    const after = (await call(t.url, `/quotas/${quota.id}`, asAdmin())).json
    assert.deepEqual([after.key_id, after.used.characters], [k.id, 18], 'one quota counted all three')
  })
})

describe('api_key.expired_used in the audit log', () => {
  test('written when an expired secret is tried: at most once per key per hour', async () => {
    const k = await newKey()
    await rotate(k.id, { grace_seconds: 0 })
    const rows = async () =>
      (await call(t.url, `/audit?action=api_key.expired_used&target_id=${k.id}`, asAdmin())).json.data as {
        actor: unknown
        details: unknown
      }[]
    for (let i = 0; i < 3; i++) assert.equal(await mintWith(k.key), '401 api_key_expired')
    await eventually(async () => (await rows()).length === 1, 'one row')
    assert.deepEqual((await rows())[0], {
      ...(await rows())[0],
      actor: { type: 'api_key', key_id: k.id },
      details: { reason: 'rotated' },
    })
    clock.advance(3_599_999)
    assert.equal(await mintWith(k.key), '401 api_key_expired')
    clock.advance(1)
    assert.equal(await mintWith(k.key), '401 api_key_expired')
    await eventually(async () => (await rows()).length === 2, 'a second row an hour later')
    assert.equal((await rows()).length, 2)
  })
})

describe('rotation on two instances sharing one PostgreSQL store', () => {
  test('a rotation on A is honoured on B at once; the grace ends on both on the shared clock; tokens of either secret work on both', async () => {
    const schema = testSchema()
    const shared = new ManualClock(Date.UTC(2026, 5, 2))
    const a = await startTestServer({ store: schema.url() }, { clock: shared })
    const b = await startTestServer({ store: schema.url() }, { clock: shared })
    try {
      const k = await newKey(a.url, a.apiKey)
      const oldToken = await mint(b.url, k.key, { expires_in: 3600 })
      const rotated = (await rotate(k.id, { grace_seconds: 120 }, a.url, a.apiKey)).json
      assert.equal(
        (await call(b.url, `/api-keys/${k.id}`, { headers: bearer(b.apiKey) })).json.rotating_until,
        iso(shared.now() + 120_000),
      )
      const newToken = await mint(b.url, rotated.key, { expires_in: 3600 })
      shared.advance(119_999)
      assert.deepEqual(
        [await mintWith(k.key, a.url), await mintWith(k.key, b.url), await mintWith(rotated.key, a.url)],
        [200, 200, 200],
      )
      shared.advance(1)
      assert.deepEqual(
        [await mintWith(k.key, a.url), await mintWith(k.key, b.url), await mintWith(rotated.key, b.url)],
        ['401 api_key_expired', '401 api_key_expired', 200],
      )
      for (const url of [a.url, b.url])
        for (const token of [oldToken, newToken])
          assert.equal((await call(url, '/access-token/self', { headers: bearer(token) })).status, 200)
      const second = (await rotate(k.id, { grace_seconds: 120 }, b.url, b.apiKey)).json.key
      assert.deepEqual(
        [await mintWith(rotated.key, a.url), await mintWith(second, a.url)],
        [200, 200],
        'the secret B replaced works on A within its grace',
      )
    } finally {
      await b.close()
      await a.close()
      await schema.drop()
    }
  })
})

describe('rotation while PostgreSQL is unreachable', () => {
  test('a replaced secret known from memory still stops when its grace ends; the new one goes on', async () => {
    const schema = testSchema()
    const proxy = await PgProxy.start()
    const c = new ManualClock(Date.UTC(2026, 5, 3))
    const s = await startTestServer(
      { store: schema.url(proxy.url(), { connect_timeout: '1', query_timeout: '1500' }) },
      { clock: c },
    )
    try {
      const k = await newKey(s.url, s.apiKey)
      assert.equal(await mintWith(k.key, s.url), 200, 'seen before the rotation')
      const rotated = (await rotate(k.id, { grace_seconds: 60 }, s.url, s.apiKey)).json
      await proxy.sever()
      assert.equal(await mintWith(k.key, s.url), '503 store_unavailable', 'the rotation made this instance forget it')
      await proxy.restore()
      await eventually(async () => (await mintWith(rotated.key, s.url)) === 200, 'the store answers again', 15_000)
      assert.equal(await mintWith(k.key, s.url), 200)
      await proxy.sever()
      assert.equal(await mintWith(k.key, s.url), 200, 'within the grace, verified from memory')
      c.advance(60_000)
      assert.deepEqual(
        [await mintWith(k.key, s.url), await mintWith(rotated.key, s.url)],
        ['503 store_unavailable', 200],
      )
    } finally {
      await s.close()
      await proxy.sever()
      await schema.drop()
    }
  })
})
