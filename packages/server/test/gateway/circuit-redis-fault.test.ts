/**
 * The shared circuit while Redis is down (issue 25, item 2; docs/gateway.md "The circuit breaker"):
 * the instance keeps a circuit of its own meanwhile, so failures still open it and an open circuit
 * still keeps requests from the upstream (spoken by the local fallback instead), and speech never
 * stops because Redis did; Redis back (empty, as after a crash), the deployment's circuit is Redis's
 * again. A Redis of the test's own, stopped and started again; the machine's is never touched.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { eventually } from '../helpers/controlled-speech.ts'
import { answerError, FakeHttpUpstream } from '../helpers/fake-http-upstream.ts'
import { bearer, call, mint } from '../helpers/http.ts'
import { rawRequest } from '../helpers/raw-request.ts'
import { OwnRedis } from '../helpers/redis.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

const BODY = {
  model_id: 'sonic-3',
  transcript: 'Hello from the gateway.',
  voice: { mode: 'id', id: 'upstream-voice' },
  output_format: { container: 'raw', encoding: 'pcm_s16le', sample_rate: 16000 },
}
const AUDIO = Buffer.alloc(3200, 7)
let redis: OwnRedis
let fake: FakeHttpUpstream
let gw: TestServer
let token: string

before(async () => {
  redis = await OwnRedis.start()
  fake = await FakeHttpUpstream.start()
  gw = await startTestServer({
    upstreamUrl: fake.url,
    upstreamApiKey: 'sk_car_upstream-secret-0123456789abcdef',
    upstreamFailureThreshold: 2,
    upstreamCooldownMs: 300_000,
    redisUrl: redis.url,
    fallback: 'local',
  })
  token = await mint(gw.url, gw.apiKey, { grants: { tts: true }, expires_in: 600 })
})
after(async () => {
  await gw.close()
  await fake.close()
  await redis.stop()
})

const speak = () =>
  rawRequest(gw.url, '/tts/bytes', {
    headers: { 'content-type': 'application/json', ...bearer(token) },
    body: JSON.stringify(BODY),
  })
const speechCalls = () => fake.requests.filter((r) => r.url.startsWith('/tts/')).length
const ready = () => call(gw.url, '/readyz')

test("Redis down: the instance's own circuit opens and keeps requests from the upstream; Redis back: the shared one", async () => {
  await redis.stop()
  await eventually(async () => (await ready()).json.checks.redis !== 'ok', 'the instance saw Redis go')
  fake.handler = answerError(500, 'internal', 'boom')
  for (let i = 0; i < 2; i++) {
    const res = await speak()
    assert.deepEqual([res.status, res.headers['x-voxgate-fallback']], [200, 'local'])
  }
  assert.equal(speechCalls(), 2)
  assert.equal((await ready()).json.checks.upstream, 'open')
  const skipped = await speak()
  assert.deepEqual([skipped.status, skipped.headers['x-voxgate-fallback']], [200, 'local'])
  assert.equal(speechCalls(), 2, 'the open circuit kept the request from the upstream')

  await redis.start()
  await eventually(async () => (await ready()).status === 200, 'the instance reconnected to Redis', 10_000)
  // Redis came back empty: the deployment's circuit is closed, and the upstream is called again.
  assert.equal((await ready()).json.checks.upstream, 'closed')
  fake.handler = (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream' })
    res.end(AUDIO)
  }
  const relayed = await speak()
  assert.deepEqual([relayed.status, relayed.headers['x-voxgate-fallback']], [200, undefined])
  assert.deepEqual(relayed.body, AUDIO)
  assert.equal(speechCalls(), 3)
})
