/**
 * Issue 22's "Done when", end to end: an operator hands an app backend a `mint`-only key that cannot
 * read usage or lift a quota, rotates it without downtime, sees every change in `voxgate audit`, and
 * gets a signed webhook once when a user passes 80 % of a monthly quota, on a three-instance
 * deployment (one PostgreSQL schema, one Redis prefix) that was restarted in between.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { Webhook } from 'standardwebhooks'
import { createKey } from '../../src/keys/create-key.ts'
import { BIN } from '../helpers/cli.ts'
import { eventually } from '../helpers/controlled-speech.ts'
import { TEST_KEK } from '../helpers/kek.ts'
import { bearer, call, mint } from '../helpers/http.ts'
import { testSchema } from '../helpers/postgres.ts'
import { dropPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis.ts'
import { ttsBody, voiceIds } from '../helpers/security.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { WebhookReceiver } from '../helpers/webhook-receiver.ts'

const schema = testSchema()
const prefix = uniquePrefix()
const shared = { store: schema.url(), redisUrl: SHARED_REDIS_URL, redisPrefix: prefix, webhookAllowPrivate: true }
// Every instance ever started, so `after` closes whichever are still open if an assertion fails midway.
const started: TestServer[] = []
let receiver: WebhookReceiver
const startThree = async (): Promise<TestServer[]> => {
  const three: TestServer[] = []
  for (let i = 0; i < 3; i++) three.push(await startTestServer(shared))
  started.push(...three)
  return three
}
const closed = new Set<TestServer>()
const closeAll = async (servers: TestServer[]) => {
  for (const s of servers) {
    await s.close()
    closed.add(s)
  }
}
before(async () => {
  receiver = await WebhookReceiver.start()
})
after(async () => {
  await closeAll(started.filter((s) => !closed.has(s)))
  await receiver.stop()
  await schema.drop()
  await dropPrefix(SHARED_REDIS_URL, prefix)
})

/** `voxgate audit --json` against the cluster's store, as an operator runs it. */
function auditLog(): { data: { action: string; actor: Record<string, unknown>; target: { id: string } }[] } {
  const r = spawnSync(process.execPath, [BIN, 'audit', '--json', '--limit', '1000', '--store', schema.url()], {
    encoding: 'utf8',
    env: { ...process.env, VOXGATE_KEY_ENCRYPTION_KEY: TEST_KEK },
  })
  assert.equal(r.status, 0, r.stderr)
  return JSON.parse(r.stdout)
}

test('a mint-only key, rotated without downtime, every change audited, one signed 80 % webhook across a restart', async () => {
  const first = await startThree()
  const [a, b] = first as [TestServer, TestServer, TestServer]
  const admin = await createKey(a.server.ctx.store, 'ops', Date.now(), { scopes: ['admin'] })

  // 1. The operator's setup over HTTP: a webhook, a monthly quota for zed (with a 0.5 alert too, so the
  // restart has an earlier event that must not come again), and the app backend's mint-only key.
  const hook = await call(a.url, '/webhooks', {
    headers: bearer(admin.key),
    body: { url: receiver.url(), events: ['quota.threshold'] },
  })
  assert.equal(hook.status, 201, hook.text)
  const quota = await call(a.url, '/quotas', {
    method: 'PUT',
    headers: bearer(admin.key),
    body: { sub: 'zed', period: 'month', characters: 1000, alert_at: [0.5, 0.8, 1] },
  })
  assert.equal(quota.status, 201, quota.text)
  const made = await call(a.url, '/api-keys', { headers: bearer(admin.key), body: { name: 'app', scopes: ['mint'] } })
  assert.equal(made.status, 201, made.text)
  assert.deepEqual(made.json.scopes, ['mint'])
  const appKey = made.json as { id: string; key: string }

  // 2. The mint key mints, and can neither read usage nor lift a quota.
  const usage = await call(b.url, '/usage', { headers: bearer(appKey.key) })
  assert.deepEqual([usage.status, usage.json?.error_code], [403, 'insufficient_scope'], usage.text)
  const lift = await call(b.url, '/quotas', {
    method: 'PUT',
    headers: bearer(appKey.key),
    body: { sub: 'zed', period: 'month', characters: 1_000_000 },
  })
  assert.deepEqual([lift.status, lift.json?.error_code], [403, 'insufficient_scope'], lift.text)
  const minted = await call(b.url, '/access-token', {
    headers: bearer(appKey.key),
    body: { grants: { tts: true }, expires_in: 600, sub: 'zed' },
  })
  assert.equal(minted.status, 200, minted.text)

  // 3. Rotation with a grace window: the old and the new secret both mint, on every instance.
  const rotated = await call(a.url, `/api-keys/${appKey.id}/rotate`, {
    headers: bearer(admin.key),
    body: { grace_seconds: 3600 },
  })
  assert.equal(rotated.status, 200, rotated.text)
  const newSecret = rotated.json.key as string
  assert.notEqual(newSecret, appKey.key)
  for (const s of first)
    for (const secret of [appKey.key, newSecret]) {
      const r = await call(s.url, '/access-token', {
        headers: bearer(secret),
        body: { grants: { tts: true }, expires_in: 60, sub: 'zed' },
      })
      assert.equal(r.status, 200, r.text)
    }

  // 4. zed speaks to 50 % (500 of 1000): the 0.5 event arrives; then the whole deployment restarts.
  for (const s of first) await eventually(() => s.server.ctx.quotas.book.size === 1, 'every instance has the quota')
  const [voice] = (await voiceIds(a.url, admin.key, 1)) as [string]
  const before = await mint(a.url, newSecret, { grants: { tts: true }, expires_in: 600, sub: 'zed' })
  const half = await call(a.url, '/tts/bytes', { headers: bearer(before), body: ttsBody(voice, `${'A'.repeat(499)}.`) })
  assert.equal(half.status, 200, half.text)
  await eventually(() => receiver.of('quota.threshold').length === 1, 'the 0.5 event arrives', 30_000)
  assert.equal(receiver.of('quota.threshold')[0]!.json.data.threshold, 0.5)

  await closeAll(first)
  const second = await startThree()
  for (const s of second)
    await eventually(() => s.server.ctx.quotas.book.size === 1, 'every new instance has the quota')

  // Still no downtime for the app backend: both secrets mint on the restarted deployment.
  for (const secret of [appKey.key, newSecret]) {
    const r = await call(second[0]!.url, '/access-token', {
      headers: bearer(secret),
      body: { grants: { tts: true }, expires_in: 60, sub: 'zed' },
    })
    assert.equal(r.status, 200, r.text)
  }

  // 5. Nine concurrent streams of 50 over the three new instances take zed from 500 to 950: 800 is
  // crossed once (by whichever reservation takes 750 to 800), 1000 never.
  const token = await mint(second[1]!.url, newSecret, { grants: { tts: true }, expires_in: 600, sub: 'zed' })
  const results = await Promise.all(
    Array.from({ length: 9 }, (_, i) =>
      call(second[i % 3]!.url, '/tts/bytes', { headers: bearer(token), body: ttsBody(voice, `${'B'.repeat(49)}.`) }),
    ),
  )
  assert.deepEqual(
    results.map((r) => r.status),
    Array(9).fill(200),
  )

  const outbox = async () =>
    schema.query<{ body: string; delivered: boolean }>(
      `SELECT e.body, d.delivered_at IS NOT NULL AS delivered
       FROM webhook_events e JOIN webhook_deliveries d ON d.event_id = e.id WHERE e.type = 'quota.threshold'`,
    )
  await eventually(
    async () => {
      const rows = await outbox()
      return rows.length === 2 && rows.every((r) => r.delivered)
    },
    'the 0.8 event delivered',
    30_000,
  )
  assert.deepEqual(
    (await outbox()).map((r) => JSON.parse(r.body).data.threshold).sort(),
    [0.5, 0.8],
    'one outbox event per threshold, none again after the restart',
  )
  const events = receiver.of('quota.threshold')
  assert.deepEqual(
    events.map((r) => r.json.data.threshold),
    [0.5, 0.8],
    'each delivered once',
  )
  const now = new Date()
  assert.deepEqual(events[1]!.json.data, {
    quota_id: quota.json.id,
    sub: 'zed',
    key_id: null,
    period: 'month',
    period_start: new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)).toISOString(),
    threshold: 0.8,
    used: 800,
    limit: 1000,
    unit: 'characters',
  })
  const verifier = new Webhook(hook.json.secret)
  for (const r of events) assert.doesNotThrow(() => verifier.verify(r.body, r.headers as Record<string, string>))
  assert.equal(new Set(events.map((r) => r.headers['webhook-id'])).size, 2)

  // 6. `voxgate audit` shows every change the operator made, each by the admin key.
  const log = auditLog()
  const row = (action: string, id: string) => log.data.filter((r) => r.action === action && r.target.id === id)
  for (const [action, id] of [
    ['api_key.created', appKey.id],
    ['api_key.rotated', appKey.id],
    ['quota.set', quota.json.id],
    ['webhook.created', hook.json.id],
  ] as const) {
    const rows = row(action, id)
    assert.equal(rows.length, 1, `${action} ${id}: ${JSON.stringify(log.data.map((r) => [r.action, r.target.id]))}`)
    assert.deepEqual(rows[0]!.actor, { type: 'api_key', key_id: admin.id })
  }
  assert.ok(!JSON.stringify(log).includes(appKey.key) && !JSON.stringify(log).includes(newSecret), 'never a secret')
})
