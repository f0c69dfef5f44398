/**
 * Webhooks on one server (issue 22 items 4 and 6): the routes and their limits, signatures checked
 * with the Standard Webhooks reference library, quota thresholds fired once (never by a refused
 * request), key events, retries after 500s and a receiver that is down, on a controlled clock, to
 * the end of the 24 h window; redirects not followed.
 * Over 400 lines: one server and one controlled clock serve every case, and the retry cases walk
 * that clock through the whole window; routes and limits are the first to move out.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { Webhook } from 'standardwebhooks'
import { DELIVERIES_LISTED, MAX_WEBHOOKS, WEBHOOK_URL_MAX_CHARS } from '../../src/webhooks/schema.ts'
import { cliOrigin } from '../../src/audit/origin.ts'
import { rotateSigningKey } from '../../src/auth/key-ring.ts'
import { createKey } from '../../src/keys/create-key.ts'
import { ManualClock } from '../helpers/clock.ts'
import { eventually } from '../helpers/controlled-speech.ts'
import { bearer, call, mint, type ApiResponse } from '../helpers/http.ts'
import { ttsBody, voiceIds } from '../helpers/security.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { WebhookReceiver, type Received } from '../helpers/webhook-receiver.ts'

const clock = new ManualClock(Date.now())
let t: TestServer
let receiver: WebhookReceiver
before(async () => {
  t = await startTestServer({ webhookAllowPrivate: true }, { clock })
  receiver = await WebhookReceiver.start()
})
after(async () => {
  await t.close()
  await receiver.stop()
})

const admin = (path: string, init: { method?: string; body?: unknown } = {}) =>
  call(t.url, path, { ...init, headers: bearer(t.apiKey) })

function assertError(res: ApiResponse, status: number, code: string, message?: RegExp): void {
  assert.equal(res.status, status, res.text)
  assert.equal(res.json.error_code, code, res.text)
  if (message) assert.match(res.json.message, message)
}

async function addWebhook(events: string[], url = receiver.url()): Promise<{ id: string; secret: string }> {
  const res = await admin('/webhooks', { body: { url, events } })
  assert.equal(res.status, 201, res.text)
  return res.json
}

/** The Standard Webhooks check, written from the spec (for clocks moved past the library's 5-minute tolerance). */
function verifiedBySpec(secret: string, r: Received): boolean {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64')
  const signed = `${r.headers['webhook-id']}.${r.headers['webhook-timestamp']}.${r.body}`
  const expected = createHmac('sha256', key).update(signed).digest('base64')
  return String(r.headers['webhook-signature'])
    .split(' ')
    .some((s) => s === `v1,${expected}`)
}

const deliveries = async (id: string) => (await admin(`/webhooks/${id}/deliveries`)).json.data as Record<string, any>[]

describe('the webhook routes', () => {
  test('POST: 201 with a whsec_ secret of 32 random bytes, once; GET shows the URL whole to admin, masked to read', async () => {
    const res = await admin('/webhooks', {
      body: { url: receiver.url('/in/T123?token=abc'), events: ['quota.threshold', 'quota.threshold'] },
    })
    assert.equal(res.status, 201, res.text)
    assert.deepEqual(Object.keys(res.json).sort(), ['created_at', 'events', 'id', 'secret', 'url'])
    assert.deepEqual(res.json.events, ['quota.threshold'])
    assert.match(res.json.secret, /^whsec_[A-Za-z0-9+/]+=*$/)
    assert.equal(Buffer.from(res.json.secret.slice(6), 'base64').length, 32)
    const all = await admin('/webhooks')
    const mine = all.json.data.find((w: { id: string }) => w.id === res.json.id)
    assert.equal(mine.url, receiver.url('/in/T123?token=abc'))
    assert.ok(!all.text.includes(res.json.secret), 'never a secret in a list')
    const read = (await createKey(t.server.ctx.store, 'reader', Date.now(), { scopes: ['read'] })).key
    const masked = await call(t.url, '/webhooks', { headers: bearer(read) })
    assert.equal(masked.status, 200)
    assert.equal(
      masked.json.data.find((w: { id: string }) => w.id === res.json.id).url,
      `http://127.0.0.1:${receiver.port}/***`,
    )
    assert.ok(!masked.text.includes('T123') && !masked.text.includes('token=abc'))
    assertError(
      await call(t.url, '/webhooks', {
        headers: bearer(read),
        body: { url: receiver.url(), events: ['quota.threshold'] },
      }),
      403,
      'insufficient_scope',
      /"admin" scope/,
    )
    assert.equal((await admin(`/webhooks/${res.json.id}`, { method: 'DELETE' })).status, 204)
    assertError(await admin(`/webhooks/${res.json.id}`, { method: 'DELETE' }), 404, 'not_found')
    assertError(await admin(`/webhooks/${res.json.id}/deliveries`), 404, 'not_found')
    assertError(await admin(`/webhooks/${res.json.id}/test`, { body: {} }), 404, 'not_found')
    assertError(await admin(`/webhooks/${res.json.id}/rotate-secret`, { body: {} }), 404, 'not_found')
  })

  test('bad bodies are 400 naming the field: unknown event, no events, a URL one past its longest, not a URL', async () => {
    assertError(
      await admin('/webhooks', { body: { url: receiver.url(), events: ['quota.exceeded'] } }),
      400,
      'invalid_request',
      /events/,
    )
    assertError(
      await admin('/webhooks', { body: { url: receiver.url(), events: [] } }),
      400,
      'invalid_request',
      /events/,
    )
    const long = receiver.url(`/${'a'.repeat(WEBHOOK_URL_MAX_CHARS)}`).slice(0, WEBHOOK_URL_MAX_CHARS + 1)
    assertError(
      await admin('/webhooks', { body: { url: long, events: ['quota.threshold'] } }),
      400,
      'invalid_request',
      /url/,
    )
    const longest = long.slice(0, WEBHOOK_URL_MAX_CHARS)
    const ok = await admin('/webhooks', { body: { url: longest, events: ['quota.threshold'] } })
    assert.equal(ok.status, 201, ok.text)
    await admin(`/webhooks/${ok.json.id}`, { method: 'DELETE' })
    assertError(
      await admin('/webhooks', { body: { url: 'not a url', events: ['quota.threshold'] } }),
      400,
      'invalid_request',
      /url/,
    )
  })

  test(`at most ${MAX_WEBHOOKS} webhooks: the one past is 400`, async () => {
    const existing = (await admin('/webhooks')).json.data.length
    const made: string[] = []
    for (let i = existing; i < MAX_WEBHOOKS; i++) made.push((await addWebhook(['signing_key.rotated'])).id)
    assertError(
      await admin('/webhooks', { body: { url: receiver.url(), events: ['signing_key.rotated'] } }),
      400,
      'invalid_request',
      new RegExp(`at most ${MAX_WEBHOOKS} webhooks`),
    )
    for (const id of made) assert.equal((await admin(`/webhooks/${id}`, { method: 'DELETE' })).status, 204)
  })
})

test(`deliveries: at most the latest ${DELIVERIES_LISTED} are listed`, async () => {
  const hook = await addWebhook(['signing_key.rotated'])
  try {
    for (let i = 0; i <= DELIVERIES_LISTED; i++)
      await t.server.ctx.outbox.enqueue('webhook.test', { n: i }, { atMs: clock.now(), webhookId: hook.id })
    const listed = await deliveries(hook.id)
    assert.equal(listed.length, DELIVERIES_LISTED)
    assert.ok(listed.every((d) => d.type === 'webhook.test'))
    await eventually(
      () =>
        receiver.received.filter((r) => r.json.type === 'webhook.test' && r.json.data.n !== undefined).length === 101,
      'all of them are delivered',
    )
  } finally {
    assert.equal((await admin(`/webhooks/${hook.id}`, { method: 'DELETE' })).status, 204)
  }
})

describe('delivery', () => {
  test('a test event: 202, then one POST the Standard Webhooks reference library verifies; the delivery is listed', async () => {
    const hook = await addWebhook(['quota.threshold'])
    const before = receiver.received.length
    const res = await admin(`/webhooks/${hook.id}/test`, { body: {} })
    assert.equal(res.status, 202, res.text)
    assert.match(res.json.event_id, /^msg_/)
    await eventually(() => receiver.received.length === before + 1, 'the test event arrives')
    const got = receiver.received.at(-1)!
    assert.equal(got.headers['content-type'], 'application/json')
    assert.equal(got.headers['webhook-id'], res.json.event_id)
    assert.equal(got.headers['webhook-timestamp'], String(Math.floor(clock.now() / 1000)))
    const verified = new Webhook(hook.secret).verify(got.body, got.headers as Record<string, string>)
    assert.deepEqual(verified, {
      type: 'webhook.test',
      timestamp: new Date(clock.now()).toISOString(),
      data: { webhook_id: hook.id },
    })
    assert.throws(() =>
      new Webhook(hook.secret).verify(
        got.body.replace('webhook.test', 'webhook.tesT'),
        got.headers as Record<string, string>,
      ),
    )
    await eventually(async () => (await deliveries(hook.id))[0]?.delivered_at !== null, 'the delivery is recorded')
    assert.deepEqual(await deliveries(hook.id), [
      {
        event_id: res.json.event_id,
        type: 'webhook.test',
        attempt: 1,
        status_code: 200,
        error: null,
        next_attempt_at: null,
        delivered_at: new Date(clock.now()).toISOString(),
      },
    ])
    await admin(`/webhooks/${hook.id}`, { method: 'DELETE' })
  })

  test('rotate-secret: later deliveries are signed with the new secret, not the old', async () => {
    const hook = await addWebhook(['quota.threshold'])
    const rotated = await admin(`/webhooks/${hook.id}/rotate-secret`, { body: {} })
    assert.equal(rotated.status, 200, rotated.text)
    assert.equal(rotated.json.id, hook.id)
    assert.notEqual(rotated.json.secret, hook.secret)
    const before = receiver.received.length
    await admin(`/webhooks/${hook.id}/test`, { body: {} })
    await eventually(() => receiver.received.length === before + 1, 'the test event arrives')
    const got = receiver.received.at(-1)!
    const headers = got.headers as Record<string, string>
    assert.doesNotThrow(() => new Webhook(rotated.json.secret).verify(got.body, headers))
    assert.throws(() => new Webhook(hook.secret).verify(got.body, headers))
    await admin(`/webhooks/${hook.id}`, { method: 'DELETE' })
  })

  test('quota.threshold: once per threshold reached (≥), with its data; a refused request fires nothing', async () => {
    const hook = await addWebhook(['quota.threshold'])
    const put = await admin('/quotas', {
      method: 'PUT',
      body: { sub: 'ann', period: 'day', characters: 100, alert_at: [1, 0.5] },
    })
    assert.equal(put.status, 201, put.text)
    assert.deepEqual(put.json.alert_at, [0.5, 1])
    const [voice] = (await voiceIds(t.url, t.apiKey, 1)) as [string]
    const token = await mint(t.url, t.apiKey, { grants: { tts: true }, expires_in: 600, sub: 'ann' })
    const speak = (text: string) => call(t.url, '/tts/bytes', { headers: bearer(token), body: ttsBody(voice, text) })
    assert.equal((await speak(`${'A'.repeat(59)}.`)).status, 200)
    await eventually(() => receiver.of('quota.threshold').length === 1, 'the 50 % event arrives')
    const day = new Date(clock.now()).toISOString().slice(0, 10)
    const expected = (threshold: number, used: number) => ({
      quota_id: put.json.id,
      sub: 'ann',
      key_id: null,
      period: 'day',
      period_start: `${day}T00:00:00.000Z`,
      threshold,
      used,
      limit: 100,
      unit: 'characters',
    })
    assert.deepEqual(receiver.of('quota.threshold')[0]!.json.data, expected(0.5, 60))
    // 60 more would pass 100: refused, reserving nothing, firing nothing.
    assertError(await speak(`${'A'.repeat(59)}.`), 429, 'quota_exceeded')
    assert.equal((await speak(`${'A'.repeat(39)}.`)).status, 200)
    await eventually(() => receiver.of('quota.threshold').length === 2, 'the 100 % event arrives')
    assert.deepEqual(receiver.of('quota.threshold')[1]!.json.data, expected(1, 100))
    for (const r of receiver.of('quota.threshold')) assert.ok(verifiedBySpec(hook.secret, r))
    assert.deepEqual(
      (await deliveries(hook.id)).map((d) => d.type),
      ['quota.threshold', 'quota.threshold'],
      'two events in all: the refusal fired none',
    )
    await admin(`/quotas/${put.json.id}`, { method: 'DELETE' })
    await admin(`/webhooks/${hook.id}`, { method: 'DELETE' })
  })

  test('api_key.created and api_key.revoked from /api-keys, signing_key.rotated from a rotation; never a secret', async () => {
    const hook = await addWebhook(['api_key.created', 'api_key.revoked', 'signing_key.rotated'])
    const created = await admin('/api-keys', { body: { name: 'app backend' } })
    assert.equal(created.status, 201)
    await eventually(() => receiver.of('api_key.created').length === 1, 'api_key.created arrives')
    const event = receiver.of('api_key.created')[0]!
    assert.deepEqual(event.json.data, {
      id: created.json.id,
      name: 'app backend',
      scopes: ['mint', 'speech'],
      created_at: new Date(clock.now()).toISOString(),
      expires_at: null,
    })
    assert.ok(!event.body.includes(created.json.key))
    assert.equal((await admin(`/api-keys/${created.json.id}`, { method: 'DELETE' })).status, 204)
    await eventually(() => receiver.of('api_key.revoked').length === 1, 'api_key.revoked arrives')
    assert.deepEqual(receiver.of('api_key.revoked')[0]!.json.data, { id: created.json.id, name: 'app backend' })
    const kid = await rotateSigningKey(t.server.ctx.store, clock.now(), { toleranceSeconds: 5, origin: cliOrigin() })
    await eventually(() => receiver.of('signing_key.rotated').length === 1, 'signing_key.rotated arrives', 10_000)
    const rotated = receiver.of('signing_key.rotated')[0]!.json.data as { kid: string; retired: string[] }
    assert.equal(rotated.kid, kid)
    assert.equal(rotated.retired.length, 1)
    for (const r of [event, ...receiver.of('api_key.revoked'), ...receiver.of('signing_key.rotated')])
      assert.ok(verifiedBySpec(hook.secret, r))
    await admin(`/webhooks/${hook.id}`, { method: 'DELETE' })
  })

  test('api_key.rotated from POST /api-keys/:id/rotate: signed, the key id only (never a secret); a 404 rotation fires none', async () => {
    const hook = await addWebhook(['api_key.rotated'])
    const created = await admin('/api-keys', { body: { name: 'rotating backend' } })
    assert.equal(created.status, 201, created.text)
    clock.advance(1000)
    const rotated = await admin(`/api-keys/${created.json.id}/rotate`, { body: { grace_seconds: 60 } })
    assert.equal(rotated.status, 200, rotated.text)
    await eventually(() => receiver.of('api_key.rotated').length === 1, 'api_key.rotated arrives')
    const event = receiver.of('api_key.rotated')[0]!
    assert.deepEqual(event.json, {
      type: 'api_key.rotated',
      timestamp: new Date(clock.now()).toISOString(),
      data: { id: created.json.id },
    })
    assert.ok(verifiedBySpec(hook.secret, event))
    for (const secret of [created.json.key, rotated.json.key]) assert.ok(!event.body.includes(secret), 'never a secret')
    assertError(await admin('/api-keys/key_nope/rotate', { body: {} }), 404, 'not_found')
    await eventually(async () => (await deliveries(hook.id))[0]?.status_code === 200, 'the delivery is recorded')
    assert.deepEqual(
      (await deliveries(hook.id)).map((d) => [d.type, d.status_code]),
      [['api_key.rotated', 200]],
      'one event in all: the refused rotation fired none',
    )
    await admin(`/api-keys/${created.json.id}`, { method: 'DELETE' })
    await admin(`/webhooks/${hook.id}`, { method: 'DELETE' })
  })

  test('a redirect is not followed: the attempt fails with its status, and nothing else is called', async () => {
    const hook = await addWebhook(['quota.threshold'])
    const before = receiver.received.length
    receiver.answer = () => ({ status: 302, headers: { location: receiver.url('/elsewhere') } })
    try {
      await admin(`/webhooks/${hook.id}/test`, { body: {} })
      await eventually(async () => (await deliveries(hook.id))[0]?.attempt === 1, 'the attempt is recorded')
      const [d] = await deliveries(hook.id)
      assert.equal(d!.status_code, 302)
      assert.equal(d!.error, 'HTTP 302: redirects are not followed')
      assert.equal(d!.next_attempt_at, new Date(clock.now() + 5000).toISOString())
      assert.equal(receiver.received.length, before + 1)
    } finally {
      receiver.answer = () => ({ status: 200 })
      await admin(`/webhooks/${hook.id}`, { method: 'DELETE' })
    }
  })
})

// These move the clock far ahead: they come last.
describe('retries on a controlled clock', () => {
  test('a receiver answering 500 gets the event again 5 s later; the second attempt delivers it', async () => {
    const hook = await addWebhook(['quota.threshold'])
    const before = receiver.received.length
    receiver.answer = (n) => ({ status: n === before + 1 ? 500 : 204 })
    try {
      const sent = (await admin(`/webhooks/${hook.id}/test`, { body: {} })).json.event_id
      await eventually(async () => (await deliveries(hook.id))[0]?.attempt === 1, 'the first attempt is recorded')
      const t0 = clock.now()
      assert.deepEqual(await deliveries(hook.id), [
        {
          event_id: sent,
          type: 'webhook.test',
          attempt: 1,
          status_code: 500,
          error: 'HTTP 500',
          next_attempt_at: new Date(t0 + 5000).toISOString(),
          delivered_at: null,
        },
      ])
      clock.advance(5000)
      await eventually(async () => (await deliveries(hook.id))[0]?.attempt === 2, 'the retry is recorded')
      const [d] = await deliveries(hook.id)
      assert.deepEqual([d!.status_code, d!.error, d!.delivered_at], [204, null, new Date(t0 + 5000).toISOString()])
      const [first, second] = receiver.received.slice(before)
      assert.equal(first!.headers['webhook-id'], sent)
      assert.equal(second!.headers['webhook-id'], sent, 'the same id on every attempt')
      assert.equal(first!.body, second!.body, 'the same body on every attempt')
      assert.equal(Number(second!.headers['webhook-timestamp']), Math.floor((t0 + 5000) / 1000))
      assert.ok(verifiedBySpec(hook.secret, second!))
    } finally {
      receiver.answer = () => ({ status: 200 })
      await admin(`/webhooks/${hook.id}`, { method: 'DELETE' })
    }
  })

  test('a receiver down for a while: attempts at +5 s, +20 s, +80 s; delivered once it is back', async () => {
    const down = await WebhookReceiver.start()
    const port = down.port
    await down.stop()
    const hook = await addWebhook(['quota.threshold'], down.url())
    const sent = (await admin(`/webhooks/${hook.id}/test`, { body: {} })).json.event_id
    const t0 = clock.now()
    const attempts = async (n: number) =>
      eventually(async () => (await deliveries(hook.id))[0]?.attempt === n, `attempt ${n} is recorded`)
    await attempts(1)
    let [d] = await deliveries(hook.id)
    assert.deepEqual([d!.status_code, d!.error], [null, 'ECONNREFUSED'])
    for (const [n, wait, at] of [
      [2, 20_000, 5000],
      [3, 80_000, 25_000],
    ] as const) {
      clock.set(t0 + at)
      await attempts(n)
      ;[d] = await deliveries(hook.id)
      assert.equal(d!.next_attempt_at, new Date(t0 + at + wait).toISOString())
    }
    await down.listen(port)
    try {
      clock.set(t0 + 105_000)
      await attempts(4)
      ;[d] = await deliveries(hook.id)
      assert.deepEqual(
        [d!.event_id, d!.status_code, d!.error, d!.delivered_at],
        [sent, 200, null, new Date(t0 + 105_000).toISOString()],
      )
      assert.equal(down.received.length, 1)
      assert.ok(verifiedBySpec(hook.secret, down.received[0]!))
    } finally {
      await down.stop()
      await admin(`/webhooks/${hook.id}`, { method: 'DELETE' })
    }
  })

  test('a receiver that never comes back: retried with backoff (×4, at most 8 h apart) until 24 h, then given up', async () => {
    const down = await WebhookReceiver.start()
    await down.stop()
    const hook = await addWebhook(['quota.threshold'], down.url())
    await admin(`/webhooks/${hook.id}/test`, { body: {} })
    const t0 = clock.now()
    const times: number[] = []
    for (let n = 1; ; n++) {
      await eventually(async () => (await deliveries(hook.id))[0]?.attempt === n, `attempt ${n} is recorded`)
      times.push(clock.now() - t0)
      const [d] = await deliveries(hook.id)
      if (d!.next_attempt_at === null) {
        assert.equal(d!.error, `ECONNREFUSED; gave up after ${n} attempts`)
        break
      }
      clock.set(Date.parse(d!.next_attempt_at))
    }
    const s = 1000
    const h = 3600 * s
    assert.deepEqual(times, [
      0,
      5 * s,
      25 * s,
      105 * s,
      425 * s,
      1705 * s,
      6825 * s,
      27_305 * s,
      27_305 * s + 8 * h,
      27_305 * s + 16 * h,
      24 * h,
    ])
    await admin(`/webhooks/${hook.id}`, { method: 'DELETE' })
  })
})
