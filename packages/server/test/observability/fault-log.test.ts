/**
 * A dependency that is down is logged once, then once per period with a count, then its recovery:
 * never a line per request. First the fault log alone on a controlled clock, then a server whose
 * Redis (its own redis-server, stopped) and whose PostgreSQL (cut by an in-test proxy) go away
 * while requests keep coming.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { FAULT_LOG_PERIOD_MS, FaultLog } from '../../src/fault-log.ts'
import { createLogger } from '../../src/logger.ts'
import { ManualClock } from '../helpers/clock.ts'
import { eventually } from '../helpers/controlled-speech.ts'
import { bearer, call } from '../helpers/http.ts'
import { LogCapture } from '../helpers/log-capture.ts'
import { PgProxy, testSchema } from '../helpers/postgres.ts'
import { OwnRedis } from '../helpers/redis.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

interface Line {
  level: number
  msg: string
  dependency?: string
  failures?: number
  operations?: Record<string, number>
  reason?: string
  down_ms?: number
}
const WARN = 40
const INFO = 30
const lines = (logs: LogCapture): Line[] => logs.lines.map((l) => JSON.parse(l) as Line)
const about = (logs: LogCapture, dependency: string): Line[] =>
  lines(logs).filter((l) => l.dependency === dependency || new RegExp(`\\b${dependency}\\b`, 'i').test(l.msg))

describe('the fault log', () => {
  test('logs a fault once, then once a period with the count per operation, then the recovery', () => {
    const logs = new LogCapture()
    const clock = new ManualClock()
    const faults = new FaultLog({ logger: createLogger('info', logs), dependency: 'redis', clock })
    for (let i = 0; i < 100; i++) faults.failed('rate limit', 'ECONNREFUSED')
    assert.deepEqual(
      lines(logs).map((l) => [l.level, l.msg, l.failures, l.operations, l.reason]),
      [[WARN, 'redis unavailable', 1, { 'rate limit': 1 }, 'ECONNREFUSED']],
    )
    clock.advance(FAULT_LOG_PERIOD_MS - 1)
    for (let i = 0; i < 10; i++) faults.failed('slot', 'ECONNREFUSED')
    assert.equal(logs.lines.length, 1, 'nothing more within the period')
    clock.advance(1)
    faults.failed('slot', 'ECONNREFUSED')
    const still = lines(logs)[1]!
    assert.deepEqual(
      [still.level, still.msg, still.failures, still.operations],
      [WARN, 'redis still unavailable', 110, { 'rate limit': 99, slot: 11 }],
    )
    clock.advance(5000)
    faults.recovered()
    faults.recovered()
    const back = lines(logs)[2]!
    assert.deepEqual([back.level, back.msg, back.failures, back.down_ms], [INFO, 'redis recovered', 111, 65_000])
    assert.equal(logs.lines.length, 3, 'a recovery is logged once')
    faults.failed('slot', 'ECONNREFUSED')
    assert.equal(lines(logs)[3]!.msg, 'redis unavailable', 'a new fault is a new first line')
  })
})

describe('Redis down while requests come', () => {
  let redis: OwnRedis
  let t: TestServer
  const clock = new ManualClock(Date.now())
  before(async () => {
    redis = await OwnRedis.start()
    t = await startTestServer({ redisUrl: redis.url, redisPrefix: 'faults:' }, { clock })
  })
  after(async () => {
    await t.close()
    await redis.stop()
  })

  test('30 mints (rate limits counted in this instance meanwhile) log one WARN line, a period later one more, then the recovery', async () => {
    const mint = () => call(t.url, '/access-token', { headers: bearer(t.apiKey), body: {} })
    assert.equal((await mint()).status, 200)
    await redis.stop()
    for (let i = 0; i < 30; i++) assert.equal((await mint()).status, 200)
    const down = about(t.logs, 'redis').filter((l) => l.level >= WARN)
    assert.equal(down.length, 1, JSON.stringify(down))
    assert.equal(down[0]!.msg, 'redis unavailable')

    clock.advance(FAULT_LOG_PERIOD_MS)
    assert.equal((await mint()).status, 200)
    const after = about(t.logs, 'redis').filter((l) => l.level >= WARN)
    assert.equal(after.length, 2, JSON.stringify(after))
    assert.equal(after[1]!.msg, 'redis still unavailable')
    assert.ok((after[1]!.operations?.['rate limit (counted in this instance meanwhile)'] ?? 0) >= 30)

    await redis.start()
    await eventually(() => about(t.logs, 'redis').some((l) => l.msg === 'redis recovered'), 'the recovery', 10_000)
    assert.equal(about(t.logs, 'redis').filter((l) => l.level >= WARN).length, 2)
  })
})

describe('PostgreSQL cut while requests come', () => {
  const schema = testSchema()
  let proxy: PgProxy
  let t: TestServer
  before(async () => {
    proxy = await PgProxy.start()
    t = await startTestServer({ store: schema.url(proxy.url(), { connect_timeout: '1', query_timeout: '1500' }) })
  })
  after(async () => {
    await t.close()
    await proxy.sever()
    await schema.drop()
  })

  test('20 refused requests log the outage once, not once each; then its recovery', async () => {
    const revoke = () =>
      call(t.url, '/access-token/revoke', { headers: bearer(t.apiKey), body: { jti: 'tok_whatever' } })
    assert.equal((await revoke()).status, 200)
    await proxy.sever()
    for (let i = 0; i < 20; i++) {
      const res = await revoke()
      assert.equal(res.status, 503)
      assert.equal(res.json.error_code, 'store_unavailable')
    }
    const down = about(t.logs, 'store').filter((l) => l.level >= WARN)
    assert.equal(down.length, 1, JSON.stringify(down.slice(0, 3)))
    assert.equal(down[0]!.msg, 'store unavailable')
    await proxy.restore()
    await eventually(async () => (await revoke()).status === 200, 'the store is back', 15_000)
    assert.ok(about(t.logs, 'store').some((l) => l.msg === 'store recovered'))
  })
})
