/**
 * api_key.expiring (issue 22 item 4): 7 days and 1 day before a key's expires_at, from the
 * housekeeping timer, once each however often (and on however many instances) it runs.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { announceExpiringKeys } from '../../src/webhooks/expiring.ts'
import { ManualClock } from '../helpers/clock.ts'
import { eventually } from '../helpers/controlled-speech.ts'
import { bearer, call } from '../helpers/http.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { WebhookReceiver } from '../helpers/webhook-receiver.ts'

const DAY = 86_400_000
const clock = new ManualClock(Date.UTC(2026, 5, 1))
let t: TestServer
let receiver: WebhookReceiver
before(async () => {
  receiver = await WebhookReceiver.start()
  t = await startTestServer({ webhookAllowPrivate: true, housekeepingIntervalMs: 1000 }, { clock })
})
after(async () => {
  await t.close()
  await receiver.stop()
})

const admin = (path: string, body?: unknown) => call(t.url, path, { headers: bearer(t.apiKey), body })
const key = async (name: string, inMs: number): Promise<string> => {
  const res = await admin('/api-keys', { name, expires_at: new Date(clock.now() + inMs).toISOString() })
  assert.equal(res.status, 201, res.text)
  return res.json.id
}
const notices = () =>
  receiver
    .of('api_key.expiring')
    .map((r) => `${r.json.data.name}:${r.json.data.days}`)
    .sort()

test('7 days and 1 day before expiry, from the housekeeping timer; a key found within a day gets the 1-day notice only', async () => {
  assert.equal((await admin('/webhooks', { url: receiver.url(), events: ['api_key.expiring'] })).status, 201)
  const start = clock.now()
  const eight = await key('eight-days', 8 * DAY)
  await key('three-days', 3 * DAY)
  await key('half-day', DAY / 2)
  await key('never', 1000 * DAY)
  await eventually(() => notices().length === 2, 'the first two notices', 10_000)
  assert.deepEqual(notices(), ['half-day:1', 'three-days:7'])
  const first = receiver.of('api_key.expiring').find((r) => r.json.data.name === 'three-days')!
  assert.deepEqual(first.json.data, {
    id: first.json.data.id,
    name: 'three-days',
    expires_at: new Date(start + 3 * DAY).toISOString(),
    days: 7,
  })
  clock.set(start + DAY)
  await eventually(() => notices().length === 3, 'eight-days is within 7 days', 10_000)
  clock.set(start + 2 * DAY + 1)
  await eventually(() => notices().length === 4, 'three-days is within 1 day', 10_000)
  clock.set(start + 7 * DAY + 1)
  await eventually(() => notices().length === 5, 'eight-days is within 1 day', 10_000)
  assert.deepEqual(notices(), ['eight-days:1', 'eight-days:7', 'half-day:1', 'three-days:1', 'three-days:7'])
  assert.equal(receiver.of('api_key.expiring').find((r) => r.json.data.name === 'eight-days')!.json.data.id, eight)
})

test('once each: running it again, or on another instance at once, enqueues nothing more', async () => {
  const store = t.server.ctx.store
  const hook = (await admin('/webhooks', { url: receiver.url(), events: ['api_key.expiring'] })).json.id
  const id = await key('soon', 5 * DAY)
  const now = clock.now()
  await Promise.all([announceExpiringKeys(store, now), announceExpiringKeys(store, now)])
  await announceExpiringKeys(store, now + DAY)
  const mine = (await store.listWebhookDeliveries(hook, 100)).filter((d) => d.type === 'api_key.expiring')
  assert.equal(mine.length, 1, 'one notice for the key within 7 days, whatever ran how often')
  await store.revokeApiKey(id, now)
  await announceExpiringKeys(store, now + 4 * DAY + 1)
  assert.equal(
    (await store.listWebhookDeliveries(hook, 100)).filter((d) => d.type === 'api_key.expiring').length,
    1,
    'a revoked key gets no notice',
  )
})
