/**
 * `npm run bench -- webhooks`: the time from a quota threshold being reached to its signed webhook
 * arriving at a local receiver (issue 22 item 7), on one instance (SQLite) and on three (one
 * PostgreSQL store and Redis). Measured from the event's own `timestamp` (the instant the reaching
 * reservation enqueued it) to the receiver's clock, the same machine's; p50 and p99. First, minting
 * with 20 webhooks configured against none (median ratio of interleaved rounds).
 */
import { createKey } from '../packages/server/src/keys/create-key.ts'
import { bearer, call, mint } from '../packages/server/test/helpers/http.ts'
import { testSchema } from '../packages/server/test/helpers/postgres.ts'
import { dropPrefix, SHARED_REDIS_URL, uniquePrefix } from '../packages/server/test/helpers/redis.ts'
import { ttsBody, voiceIds } from '../packages/server/test/helpers/security.ts'
import { startTestServer, type TestServer } from '../packages/server/test/helpers/server.ts'
import { WebhookReceiver } from '../packages/server/test/helpers/webhook-receiver.ts'
import { load } from './http-load.ts'
import { percentile } from './ttfb.ts'

const RUNS = 100
const fmt = (n: number) => n.toFixed(1)

async function crossings(instances: TestServer[], receiver: WebhookReceiver): Promise<number[]> {
  const [a] = instances as [TestServer]
  const apiKey = (await createKey(a.server.ctx.store, 'bench', Date.now(), { scopes: ['admin'] })).key
  await call(a.url, '/webhooks', {
    headers: bearer(apiKey),
    body: { url: receiver.url(), events: ['quota.threshold'] },
  })
  const [voice] = (await voiceIds(a.url, apiKey, 1)) as [string]
  const latencies: number[] = []
  for (let i = 0; i < RUNS; i++) {
    const sub = `bench-${i}`
    const put = await call(a.url, '/quotas', {
      method: 'PUT',
      headers: bearer(apiKey),
      body: { sub, period: 'day', characters: 10, alert_at: [0.8] },
    })
    const target = instances[i % instances.length]!
    while (target.server.ctx.quotas.book.size <= i) await new Promise((r) => setTimeout(r, 5))
    const token = await mint(a.url, apiKey, { grants: { tts: true }, expires_in: 600, sub })
    const before = receiver.received.length
    await call(target.url, '/tts/bytes', { headers: bearer(token), body: ttsBody(voice, 'Hello you.') })
    while (receiver.received.length === before) await new Promise((r) => setImmediate(r))
    const got = receiver.received.at(-1)!
    if (got.json.data.quota_id !== put.json.id) throw new Error('an unexpected event arrived')
    latencies.push(got.at - Date.parse(got.json.timestamp))
  }
  return latencies
}

function report(label: string, latencies: number[]): void {
  console.log(
    `${label}: p50 ${fmt(percentile(latencies, 50))} ms, p99 ${fmt(percentile(latencies, 99))} ms, max ${fmt(Math.max(...latencies))} ms (${latencies.length} crossings)`,
  )
}

const ROUNDS = 8
const ROUND_MS = 1500

/**
 * Minting on a server with 20 webhooks (every event type) against one with none, in interleaved
 * rounds (A B B A …) so both meet the same machine load: the outbox poll and the deliverer must cost
 * minting nothing that shows (target: median ratio ≥ 0.97).
 */
async function mintRatio(receiver: WebhookReceiver): Promise<{ median: number; min: number; max: number }> {
  const options = { logLevel: 'silent', webhookAllowPrivate: true, mintPerMinute: 0 } as const
  const hooked = await startTestServer(options)
  const plain = await startTestServer(options)
  try {
    for (let i = 0; i < 20; i++)
      await call(hooked.url, '/webhooks', {
        headers: bearer(hooked.apiKey),
        body: { url: receiver.url(), events: ['quota.threshold', 'api_key.created', 'api_key.revoked'] },
      })
    const mintOn = async (t: TestServer) =>
      (
        await load({
          url: t.url,
          connections: 16,
          durationMs: ROUND_MS,
          path: '/access-token',
          method: 'POST',
          headers: { authorization: `Bearer ${t.apiKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({ grants: { tts: true }, expires_in: 60 }),
        })
      ).perSecond
    const ratios: number[] = []
    for (let r = 0; r < ROUNDS; r++) {
      const [a, b] = r % 2 === 0 ? [plain, hooked] : [hooked, plain]
      const first = await mintOn(a)
      const second = await mintOn(b)
      ratios.push(a === hooked ? first / second : second / first)
    }
    return { median: percentile(ratios, 50), min: Math.min(...ratios), max: Math.max(...ratios) }
  } finally {
    await plain.close()
    await hooked.close()
  }
}

export async function webhooksSection(): Promise<void> {
  console.log('\n## webhooks: quota threshold reached → signed webhook received (loopback receiver)')
  const receiver = await WebhookReceiver.start()
  try {
    const ratio = await mintRatio(receiver)
    console.log(
      `minting with 20 webhooks / without: median ${ratio.median.toFixed(2)} (rounds ${ratio.min.toFixed(2)}–${ratio.max.toFixed(2)}; target ≥ 0.97)`,
    )
    const one = await startTestServer({ logLevel: 'silent', webhookAllowPrivate: true, ttsStreamsPerMinute: 0 })
    try {
      report('one instance, SQLite', await crossings([one], receiver))
    } finally {
      await one.close()
    }
    const schema = testSchema()
    const prefix = uniquePrefix()
    const shared = {
      logLevel: 'silent',
      store: schema.url(),
      redisUrl: SHARED_REDIS_URL,
      redisPrefix: prefix,
      webhookAllowPrivate: true,
      ttsStreamsPerMinute: 0,
    } as const
    const three: TestServer[] = []
    try {
      for (let i = 0; i < 3; i++) three.push(await startTestServer(shared))
      report('three instances, PostgreSQL + Redis', await crossings(three, receiver))
    } finally {
      for (const s of three) await s.close()
      await schema.drop()
      await dropPrefix(SHARED_REDIS_URL, prefix)
    }
  } finally {
    await receiver.stop()
  }
}
