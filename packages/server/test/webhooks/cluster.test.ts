/**
 * One quota.threshold per quota, period and threshold across a cluster (issue 22 items 4 and 6):
 * three instances on one PostgreSQL store and one Redis, 20 concurrent streams crossing 80 % of a
 * quota together, spread over the three, yield exactly one event at 0.8 (and one at 1), each
 * delivered once.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { createKey } from '../../src/keys/create-key.ts'
import { eventually } from '../helpers/controlled-speech.ts'
import { bearer, call, mint } from '../helpers/http.ts'
import { testSchema } from '../helpers/postgres.ts'
import { dropPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis.ts'
import { ttsBody, voiceIds } from '../helpers/security.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { WebhookReceiver } from '../helpers/webhook-receiver.ts'

const schema = testSchema()
const prefix = uniquePrefix()
const instances: TestServer[] = []
let receiver: WebhookReceiver
before(async () => {
  receiver = await WebhookReceiver.start()
  const shared = { store: schema.url(), redisUrl: SHARED_REDIS_URL, redisPrefix: prefix, webhookAllowPrivate: true }
  for (let i = 0; i < 3; i++) instances.push(await startTestServer(shared))
})
after(async () => {
  for (const s of instances) await s.close()
  await receiver.stop()
  await schema.drop()
  await dropPrefix(SHARED_REDIS_URL, prefix)
})

test('20 concurrent streams on three instances crossing 80 % together: exactly one quota.threshold at 0.8', async () => {
  const [a] = instances as [TestServer, TestServer, TestServer]
  const apiKey = (await createKey(a.server.ctx.store, 'cluster', Date.now(), { scopes: ['admin'] })).key
  const hook = await call(a.url, '/webhooks', {
    headers: bearer(apiKey),
    body: { url: receiver.url(), events: ['quota.threshold'] },
  })
  assert.equal(hook.status, 201, hook.text)
  const put = await call(a.url, '/quotas', {
    method: 'PUT',
    headers: bearer(apiKey),
    body: { sub: 'zed', period: 'day', characters: 1000 },
  })
  assert.equal(put.status, 201, put.text)
  for (const s of instances) await eventually(() => s.server.ctx.quotas.book.size === 1, 'every instance has the quota')
  const [voice] = (await voiceIds(a.url, apiKey, 1)) as [string]
  const token = await mint(a.url, apiKey, { grants: { tts: true }, expires_in: 600, sub: 'zed' })
  const speak = (s: TestServer, text: string) =>
    call(s.url, '/tts/bytes', { headers: bearer(token), body: ttsBody(voice, text) })
  // 750 of 1000: below 80 %.
  assert.equal((await speak(a, `${'A'.repeat(749)}.`)).status, 200)
  assert.equal(receiver.received.length, 0)

  // 20 × 50 at once, over the three instances: 800 is reached by one of them, 1000 by another.
  const results = await Promise.all(
    Array.from({ length: 20 }, (_, i) => speak(instances[i % 3]!, `${'B'.repeat(49)}.`)),
  )
  const statuses = results.map((r) => r.status).sort()
  assert.deepEqual(statuses, [...Array(5).fill(200), ...Array(15).fill(429)])

  const rows = async () =>
    schema.query<{ type: string; body: string; delivered: boolean }>(
      `SELECT e.type, e.body, d.delivered_at IS NOT NULL AS delivered
       FROM webhook_events e JOIN webhook_deliveries d ON d.event_id = e.id WHERE e.type = 'quota.threshold'`,
    )
  await eventually(
    async () => {
      const r = await rows()
      return r.length === 2 && r.every((x) => x.delivered)
    },
    'both events delivered',
    15_000,
  )
  const thresholds = (await rows()).map((r) => JSON.parse(r.body).data.threshold).sort()
  assert.deepEqual(thresholds, [0.8, 1], 'one event per threshold in the outbox')
  assert.deepEqual(
    receiver
      .of('quota.threshold')
      .map((r) => r.json.data.threshold)
      .sort(),
    [0.8, 1],
    'each delivered once',
  )
  const at80 = receiver.of('quota.threshold').find((r) => r.json.data.threshold === 0.8)!
  assert.equal(at80.json.data.quota_id, put.json.id)
  assert.equal(at80.json.data.used, 800, 'the reservation that took 750 to 800 reached it')
})
