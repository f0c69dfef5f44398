/**
 * PostgreSQL stalled: an in-test proxy accepts connections and holds every byte (a black-holed link,
 * not a refused one), and there is no Redis. A request waits for one store call at most
 * `storeRequestTimeoutMs`, then gets its path's documented answer: minting with a known key counts
 * its rate limit in this process (200), a revocation and a token's speech (which must be recorded
 * first) get 503 `store_unavailable`. Without the deadline each waited out the pool's own timeouts
 * (10 s and more).
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { bearer, call, mint } from '../helpers/http.ts'
import { PgProxy, testSchema } from '../helpers/postgres.ts'
import { ttsBody, voiceIds } from '../helpers/security.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

/**
 * Every store call of the test server has this deadline, setting it up included (its schema and its
 * API key, through the proxy): 300 ms was passed by a healthy call at load 29.
 */
const DEADLINE_MS = 1000
/**
 * The bound asserted on each answer: the deadline plus generous room for a loaded machine, still far
 * below the pool's own timeouts (5 s to connect, 10 s for a query here) that the old code waited out.
 */
const ANSWER_WITHIN_MS = 4000

const schema = testSchema()
let proxy: PgProxy
let t: TestServer
let voice: string
before(async () => {
  proxy = await PgProxy.start()
  t = await startTestServer({
    store: schema.url(proxy.url(), { query_timeout: '10000' }),
    storeRequestTimeoutMs: DEADLINE_MS,
  })
  ;[voice] = (await voiceIds(t.url, t.apiKey, 1)) as [string]
})
after(async () => {
  await proxy?.sever()
  await t?.close()
  await schema.drop()
})

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = performance.now()
  const value = await fn()
  return { value, ms: performance.now() - t0 }
}

describe('PostgreSQL stalled, no Redis', () => {
  test('each request is answered within the store deadline: a mint by its fallback, the rest 503 store_unavailable', async () => {
    const token = await mint(t.url, t.apiKey, { grants: { tts: true }, expires_in: 600 })
    proxy.stall()

    for (let i = 0; i < 3; i++) {
      const minted = await timed(() => call(t.url, '/access-token', { headers: bearer(t.apiKey), body: {} }))
      assert.equal(minted.value.status, 200, minted.value.text)
      assert.ok(minted.ms < ANSWER_WITHIN_MS, `mint ${i} took ${Math.round(minted.ms)} ms`)
    }
    for (const [path, credential, body] of [
      ['/access-token/revoke', t.apiKey, { jti: 'tok_whatever' }],
      ['/tts/bytes', token, ttsBody(voice, 'Recorded first.')],
    ] as const) {
      const res = await timed(() => call(t.url, path, { headers: bearer(credential), body }))
      assert.equal(res.value.status, 503, `${path}: ${res.value.text}`)
      assert.equal(res.value.json.error_code, 'store_unavailable')
      assert.equal(res.value.headers.get('retry-after'), '2')
      assert.ok(res.ms < ANSWER_WITHIN_MS, `${path} took ${Math.round(res.ms)} ms`)
    }
  })
})
