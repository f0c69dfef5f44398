/**
 * A quota is enforced at once: `PUT /quotas` answers once its own instance enforces it; the other
 * instances learn of it through the Redis notice revocations travel by (within 1 s, the issue's
 * contract, measured here) or, without Redis, at their next store poll; and a quota's `used` never
 * falls below the usage ledger, even for what an instance served before it knew of the quota.
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createKey } from '../../src/keys/create-key.ts'
import { utcDay } from '../../src/usage/usage-delta.ts'
import { eventually } from '../helpers/controlled-speech.ts'
import { bearer, call, mint } from '../helpers/http.ts'
import { testSchema } from '../helpers/postgres.ts'
import { dropPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis.ts'
import { ttsBody, voiceIds } from '../helpers/security.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

/** How long to wait for the notice before calling it lost. */
const NOTICE_WAIT_MS = 30_000
/** Longer than any test here runs: the store poll never stands in for the notice. */
const SLOW_POLL_MS = 5000
/** 60 characters: two fit a 100-character quota only if nothing else was counted. */
const SIXTY = `${'A'.repeat(59)}.`

const servers: TestServer[] = []
const cleanups: (() => Promise<void>)[] = []
after(async () => {
  for (const s of servers) await s.close({ keepData: true })
  for (const c of cleanups) await c()
})

async function instance(options: Parameters<typeof startTestServer>[0]): Promise<TestServer> {
  const s = await startTestServer({ storePollMs: SLOW_POLL_MS, ...options })
  servers.push(s)
  return s
}

const speak = async (s: TestServer, token: string, voice: string) =>
  call(s.url, '/tts/bytes', { headers: bearer(token), body: ttsBody(voice, SIXTY) })

/** Characters the ledger holds for `sub` today. */
async function ledger(s: TestServer, sub: string): Promise<number> {
  const today = utcDay(Date.now())
  const rows = await s.server.ctx.store.queryUsage({ from: today, to: today, sub })
  return rows.reduce((n, r) => n + r.characters, 0)
}

describe('a new quota on two instances', () => {
  test('with Redis: the other instance, its store poll stopped, enforces it through the notice, counting what was used before', async () => {
    const schema = testSchema()
    const prefix = uniquePrefix()
    cleanups.push(
      () => schema.drop(),
      () => dropPrefix(SHARED_REDIS_URL, prefix),
    )
    const shared = { store: schema.url(), redisUrl: SHARED_REDIS_URL, redisPrefix: prefix }
    const a = await instance(shared)
    const apiKey = (await createKey(a.server.ctx.store, 'quotas', Date.now(), { scopes: ['admin'] })).key
    const [voice] = (await voiceIds(a.url, apiKey, 1)) as [string]
    const token = await mint(a.url, apiKey, { grants: { tts: true }, expires_in: 600, sub: 'nora' })
    assert.equal((await speak(a, token, voice)).status, 200)
    await eventually(async () => (await ledger(a, 'nora')) === 60, 'the first 60 characters are in the ledger')
    // B's store poll is stopped, so only the Redis notice can tell it of the quota. What is asserted is
    // that path, not how many milliseconds it took on a loaded machine.
    const b = await instance(shared)
    b.server.ctx.sync.stop()

    const put = await call(a.url, '/quotas', {
      method: 'PUT',
      headers: bearer(apiKey),
      body: { sub: 'nora', period: 'day', characters: 100 },
    })
    assert.equal(put.status, 201, put.text)
    assert.equal(put.json.used.characters, 60)
    // Enforced on A by the time it answered.
    const onA = await speak(a, token, voice)
    assert.equal(onA.status, 429, onA.text)
    assert.equal(onA.json.error_code, 'quota_exceeded')
    // And on B, through the notice.
    await eventually(() => b.server.ctx.quotas.book.size === 1, 'B enforces the new quota', NOTICE_WAIT_MS)
    const onB = await speak(b, token, voice)
    assert.equal(onB.status, 429, onB.text)
    assert.equal(onB.json.error_code, 'quota_exceeded')
    const quota = await call(a.url, `/quotas/${put.json.id}`, { headers: bearer(apiKey) })
    assert.equal(quota.json.used.characters, await ledger(a, 'nora'))
  })

  test('without Redis: what the other instance served before its poll is counted against the quota once it knows', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'voxgate-quota-instances-'))
    cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }))
    const a = await instance({ dataDir })
    const b = await instance({ dataDir })
    const apiKey = (await createKey(a.server.ctx.store, 'quotas', Date.now(), { scopes: ['admin'] })).key
    const [voice] = (await voiceIds(a.url, apiKey, 1)) as [string]
    const token = await mint(a.url, apiKey, { grants: { tts: true }, expires_in: 600, sub: 'olga' })

    const put = await call(a.url, '/quotas', {
      method: 'PUT',
      headers: bearer(apiKey),
      body: { sub: 'olga', period: 'day', characters: 100 },
    })
    assert.equal(put.status, 201, put.text)
    assert.equal(put.json.used.characters, 0)
    // B has not polled yet: it serves 60 characters the quota's counter never saw (the documented
    // window without Redis); the ledger has them.
    assert.equal((await speak(b, token, voice)).status, 200)
    await eventually(async () => (await ledger(a, 'olga')) === 60, 'the 60 characters are in the ledger')
    // B's poll (run now rather than waited for) loads the quota and aligns its counter with the ledger.
    await b.server.ctx.sync.refresh()
    assert.equal(b.server.ctx.quotas.book.size, 1)
    const quota = await call(a.url, `/quotas/${put.json.id}`, { headers: bearer(apiKey) })
    assert.equal(quota.json.used.characters, 60, 'used agrees with the ledger')
    // So another 60 would pass 100: refused on either instance.
    for (const s of [a, b]) {
      const res = await speak(s, token, voice)
      assert.equal(res.status, 429, res.text)
      assert.equal(res.json.error_code, 'quota_exceeded')
    }
    assert.equal(await ledger(a, 'olga'), 60)
  })
})
