/**
 * Several instances, one Redis: stream slots and per-key rate limits are counted once for the whole
 * deployment, a revocation on one instance ends streams on the others at once (pub/sub, not the
 * store poll), a dead instance's slots free themselves, and a Redis outage has its defined answer.
 * Two servers share one data folder here (one SQLite store) and the machine's Redis under a prefix
 * of this run's own; fault tests start a redis-server of their own.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { systemClock } from '../../src/clock.ts'
import { FaultLog } from '../../src/fault-log.ts'
import { createLogger } from '../../src/logger.ts'
import { RedisConnection } from '../../src/shared/redis.ts'
import { RedisSlots } from '../../src/streams/slots.ts'
import { bearer, call, mint } from '../helpers/http.ts'
import { dropPrefix, OwnRedis, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis.ts'
import { closeQuietly, openInbox, ttsBody, voiceIds } from '../helpers/security.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { eventually } from '../helpers/controlled-speech.ts'

const prefix = uniquePrefix()
const dataDir = mkdtempSync(path.join(tmpdir(), 'voxgate-cluster-'))
let a: TestServer
let b: TestServer
let voice: string

before(async () => {
  const shared = { dataDir, redisUrl: SHARED_REDIS_URL, redisPrefix: prefix, mintPerMinute: 40 }
  a = await startTestServer(shared)
  // B reads its store only every 5 s: anything it learns sooner came through Redis.
  b = await startTestServer({ ...shared, storePollMs: 5000 })
  ;[voice] = (await voiceIds(a.url, a.apiKey, 1)) as [string]
})
after(async () => {
  await b.close({ keepData: true })
  await a.close({ keepData: true })
  rmSync(dataDir, { recursive: true, force: true })
  await dropPrefix(SHARED_REDIS_URL, prefix)
})

const held = (url: string, token: string) => openInbox(url, { query: `?access_token=${token}` })
const holdContext = (inbox: Awaited<ReturnType<typeof held>>, id: string) =>
  inbox.send({ ...ttsBody(voice, 'waiting'), context_id: id, continue: true })
const openStreams = async (url: string, token: string) =>
  (await call(url, '/access-token/self', { headers: bearer(token) })).json.usage.open_streams

describe('shared limits across instances', () => {
  test('a concurrent_streams: 2 token holds two slots across both instances; a third is refused on either', async () => {
    const token = await mint(a.url, a.apiKey, {
      grants: { tts: true },
      expires_in: 600,
      limits: { concurrent_streams: 2 },
    })
    const onA = await held(a.url, token)
    const onB = await held(b.url, token)
    try {
      holdContext(onA, 'one')
      holdContext(onB, 'two')
      await eventually(async () => (await openStreams(a.url, token)) === 2, 'two slots taken')
      assert.equal(await openStreams(b.url, token), 2, 'both instances see the same count')
      for (const url of [a.url, b.url]) {
        const third = await call(url, '/tts/bytes', { headers: bearer(token), body: ttsBody(voice, 'Three.') })
        assert.equal(third.status, 429)
        assert.equal(third.json.error_code, 'concurrency_limited')
      }
      onA.send({ context_id: 'one', cancel: true })
      await eventually(async () => (await openStreams(b.url, token)) === 1, 'a slot freed on A is free on B')
      assert.equal(
        (await call(b.url, '/tts/bytes', { headers: bearer(token), body: ttsBody(voice, 'Now it fits.') })).status,
        200,
      )
    } finally {
      closeQuietly(onA.ws)
      closeQuietly(onB.ws)
    }
  })

  test('per-key mint rate limits are counted once for the deployment, not once per instance', async () => {
    const { createKey } = await import('../../src/keys/create-key.ts')
    const key = await createKey(a.server.ctx.store, 'rate', Date.now())
    const statuses: number[] = []
    for (let i = 0; i < 41; i++) {
      const res = await call(i % 2 === 0 ? a.url : b.url, '/access-token', { headers: bearer(key.key), body: {} })
      statuses.push(res.status)
      if (res.status === 429) {
        assert.equal(res.json.error_code, 'rate_limited')
        assert.ok(Number(res.headers.get('retry-after')) >= 1)
      }
    }
    assert.equal(statuses.filter((s) => s === 200).length, 40)
    assert.equal(statuses.at(-1), 429)
  })

  test('a revoke on A ends a WebSocket on B within 1 s, though B polls its store only every 5 s', async () => {
    const token = await mint(a.url, a.apiKey, { grants: { tts: true }, expires_in: 600 })
    const onB = await held(b.url, token)
    try {
      holdContext(onB, 'victim')
      await eventually(async () => (await openStreams(b.url, token)) === 1, 'the context is open on B')
      const t0 = performance.now()
      const res = await call(a.url, '/access-token/revoke', { headers: bearer(a.apiKey), body: { token } })
      assert.equal(res.status, 200)
      const close = await onB.closed(3000)
      assert.equal(close.code, 4401)
      assert.ok(close.at - t0 < 1000, `closed ${Math.round(close.at - t0)} ms after the revoke was sent`)
      assert.equal((await onB.terminal('victim', 0)).error_code, 'token_revoked')
    } finally {
      closeQuietly(onB.ws)
    }
  })
})

describe('slots of an instance that died', () => {
  test('free themselves within the lease TTL (no renewals from a dead instance)', async () => {
    const logger = createLogger('silent')
    const faults = new FaultLog({ logger, dependency: 'redis', clock: systemClock })
    const leasePrefix = uniquePrefix()
    const dead = await RedisConnection.connect(SHARED_REDIS_URL, leasePrefix, faults)
    const alive = await RedisConnection.connect(SHARED_REDIS_URL, leasePrefix, faults)
    const ttlMs = 600
    const crashed = new RedisSlots(dead, logger, ttlMs)
    const survivor = new RedisSlots(alive, logger, ttlMs)
    try {
      assert.equal(await crashed.acquire('tok_x', 1, 'lease-dead'), true)
      // As after kill -9: the lease is never released and never renewed again.
      crashed.close()
      await dead.close()
      assert.equal(await survivor.acquire('tok_x', 1, 'lease-new'), false, 'the slot is still held')
      await eventually(() => survivor.acquire('tok_x', 1, 'lease-new'), 'the dead lease expired', 5000)
      assert.equal(await survivor.count('tok_x'), 1)
    } finally {
      survivor.close()
      await alive.close()
      await dropPrefix(SHARED_REDIS_URL, leasePrefix)
    }
  })
})

describe('Redis unreachable', () => {
  let redis: OwnRedis
  let c: TestServer
  before(async () => {
    redis = await OwnRedis.start()
    c = await startTestServer({ redisUrl: redis.url, redisPrefix: 'fault:' })
  })
  after(async () => {
    await c.close()
    await redis.stop()
  })

  test('a token with concurrent_streams fails closed with 503 limits_unavailable; others and minting go on; all recovers', async () => {
    const limited = await mint(c.url, c.apiKey, {
      grants: { tts: true },
      expires_in: 600,
      limits: { concurrent_streams: 1 },
    })
    const plain = await mint(c.url, c.apiKey, { grants: { tts: true }, expires_in: 600 })
    assert.equal(
      (await call(c.url, '/tts/bytes', { headers: bearer(limited), body: ttsBody(voice, 'Before.') })).status,
      200,
    )
    await redis.stop()

    const refused = await call(c.url, '/tts/bytes', { headers: bearer(limited), body: ttsBody(voice, 'During.') })
    assert.equal(refused.status, 503)
    assert.equal(refused.json.error_code, 'limits_unavailable')
    assert.ok(Number(refused.headers.get('retry-after')) >= 1)
    assert.equal(
      (await call(c.url, '/tts/bytes', { headers: bearer(plain), body: ttsBody(voice, 'During.') })).status,
      200,
    )
    assert.equal(
      (await call(c.url, '/access-token', { headers: bearer(c.apiKey), body: {} })).status,
      200,
      'minting falls back to counting in this instance',
    )

    await redis.start()
    await eventually(
      async () =>
        (await call(c.url, '/tts/bytes', { headers: bearer(limited), body: ttsBody(voice, 'After.') })).status === 200,
      'recovered after Redis came back',
      10_000,
    )
  })
})
