/**
 * Redis emptied under running streams (FLUSHALL, or a restart without persistence) loses every
 * stream-slot lease. Each instance re-asserts the leases it holds: at once before it grants another
 * slot of the same token, and at every renewal. So a `concurrent_streams: 1` token gets no second
 * stream on the instance holding its first, and on other instances only until that instance's next
 * renewal. Two instances' slot stores on a redis-server of the test's own (never the shared one),
 * with a short lease (renewed every LEASE_TTL_MS / 3).
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createClient } from 'redis'
import { systemClock } from '../../src/clock.ts'
import { FaultLog } from '../../src/fault-log.ts'
import { createLogger } from '../../src/logger.ts'
import { RedisConnection } from '../../src/shared/redis.ts'
import { RedisSlots } from '../../src/streams/slots.ts'
import { eventually } from '../helpers/controlled-speech.ts'
import { OwnRedis } from '../helpers/redis.ts'

const LEASE_TTL_MS = 1500
const RENEW_EVERY_MS = LEASE_TTL_MS / 3

let redis: OwnRedis
const connections: RedisConnection[] = []
const stores: RedisSlots[] = []
before(async () => {
  redis = await OwnRedis.start()
})
after(async () => {
  for (const s of stores) s.close()
  for (const c of connections) await c.close()
  await redis.stop()
})

/** One instance's slot store, on a connection of its own. */
async function instance(ttlMs = LEASE_TTL_MS): Promise<RedisSlots> {
  const logger = createLogger('silent')
  const conn = await RedisConnection.connect(
    redis.url,
    'flush:',
    new FaultLog({ logger, dependency: 'redis', clock: systemClock }),
  )
  connections.push(conn)
  const slots = new RedisSlots(conn, logger, ttlMs)
  stores.push(slots)
  return slots
}

async function flushAll(): Promise<void> {
  const client = createClient({ url: redis.url })
  await client.connect()
  try {
    await client.flushAll()
  } finally {
    await client.close()
  }
}

describe('a FLUSHALL under a concurrent_streams: 1 token', () => {
  test('the instance holding its stream refuses a second at once', async () => {
    // A long lease: no renewal comes during this test, so only the acquire itself can re-assert.
    const a = await instance(60_000)
    assert.equal(await a.acquire('tok_same', 1, 'lease-a1'), true)
    await flushAll()
    assert.equal(await a.acquire('tok_same', 1, 'lease-a2'), false, 'the held lease was re-asserted before counting')
    assert.equal(await a.count('tok_same'), 1)
  })

  test('another instance may grant one more only until the holder next renews; then the limit holds again', async () => {
    const a = await instance()
    const b = await instance()
    assert.equal(await a.acquire('tok_other', 1, 'lease-a'), true)
    assert.equal(await b.acquire('tok_other', 1, 'lease-b0'), false)
    await flushAll()
    const t0 = performance.now()
    // The documented window: B cannot know of A's lease until A re-asserts it (unless A's renewal
    // already came, in which case B is refused: the window is over).
    if (await b.acquire('tok_other', 1, 'lease-b1')) b.release('tok_other', 'lease-b1')
    await eventually(async () => (await b.count('tok_other')) === 1, "A's renewal re-created its lease", 5000)
    const back = performance.now() - t0
    // A timer's period, not a speed: allowed twice over for a loaded machine's late timers.
    assert.ok(back < 2 * RENEW_EVERY_MS, `the lease came back ${Math.round(back)} ms after the flush`)
    assert.equal(await b.acquire('tok_other', 1, 'lease-b2'), false, 'the limit holds again')
  })
})
