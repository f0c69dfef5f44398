/**
 * The upstream circuit breaker (issue 25, item 2), on a controlled clock: failures in a row open it,
 * an open circuit answers 502 upstream_unavailable with Retry-After and never calls the upstream,
 * the cool-down over, one request probes; a failed probe doubles the cool-down, an answer closes it.
 * A client's own 4xx never counts. With --redis, two instances share one circuit and one probe.
 */
import { after, afterEach, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { bearer, call, mint } from '../helpers/http.ts'
import { ManualClock } from '../helpers/clock.ts'
import { answerError, FakeHttpUpstream } from '../helpers/fake-http-upstream.ts'
import { rawRequest } from '../helpers/raw-request.ts'
import { scrape } from '../helpers/prometheus.ts'
import { handshake, wsUrl } from '../helpers/ws.ts'
import { dropPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

const UPSTREAM_KEY = 'sk_car_upstream-secret-0123456789abcdef'
const BODY = {
  model_id: 'sonic-3',
  transcript: 'Hello from the gateway.',
  voice: { mode: 'id', id: 'upstream-voice' },
  output_format: { container: 'raw', encoding: 'pcm_s16le', sample_rate: 16000 },
}
const AUDIO = Buffer.alloc(3200, 7)

const answerAudio: FakeHttpUpstream['handler'] = (_req, res) => {
  res.writeHead(200, { 'content-type': 'application/octet-stream' })
  res.end(AUDIO)
}

async function speak(gw: TestServer, token: string) {
  return rawRequest(gw.url, '/tts/bytes', {
    headers: { 'content-type': 'application/json', ...bearer(token) },
    body: JSON.stringify(BODY),
  })
}

async function circuitOf(gw: TestServer): Promise<string> {
  const res = await call(gw.url, '/readyz')
  assert.equal(res.status, 200, 'the upstream circuit never makes an instance unready')
  return res.json.checks.upstream
}

/** The upstream requests that were speech (the start check's voices request excluded). */
const speechCalls = (fake: FakeHttpUpstream) => fake.requests.filter((r) => r.url.startsWith('/tts/')).length

describe('one instance', () => {
  const clock = new ManualClock(Date.now())
  let fake: FakeHttpUpstream
  let gw: TestServer
  let token: string

  before(async () => {
    fake = await FakeHttpUpstream.start()
    gw = await startTestServer(
      {
        upstreamUrl: fake.url,
        upstreamApiKey: UPSTREAM_KEY,
        upstreamTimeoutMs: 1000,
        upstreamFailureThreshold: 2,
        upstreamCooldownMs: 10_000,
        metrics: true,
        metricsPort: 0,
      },
      { clock },
    )
    token = await mint(gw.url, gw.apiKey, { grants: { tts: true }, expires_in: 3600 })
  })
  afterEach(async () => {
    await fake.until(() => fake.open === 0)
    fake.reset()
  })
  after(async () => {
    await gw.close()
    await fake.close()
  })

  test('failures open it, the cool-down over one probe goes, a failed probe doubles the cool-down, an answer closes it', async () => {
    assert.equal(await circuitOf(gw), 'closed')
    fake.handler = answerError(500, 'internal', 'boom')
    for (let i = 0; i < 2; i++) {
      const res = await speak(gw, token)
      assert.equal(res.status, 502)
      assert.equal(res.json.error_code, 'upstream_error')
    }
    assert.equal(speechCalls(fake), 2)
    assert.equal(await circuitOf(gw), 'open')

    // Open: answered at once, the upstream not called, and told when to come back.
    const refused = await speak(gw, token)
    assert.equal(refused.status, 502)
    assert.equal(refused.json.error_code, 'upstream_unavailable')
    assert.equal(refused.headers['retry-after'], '10')
    assert.equal(speechCalls(fake), 2)
    clock.advance(4_000)
    assert.equal((await speak(gw, token)).headers['retry-after'], '6')
    let metrics = await scrape(gw.server.metricsUrl!)
    assert.equal(metrics.value('voxgate_upstream_circuit_state', { state: 'open' }), 1)
    assert.equal(metrics.value('voxgate_upstream_circuit_state', { state: 'closed' }), 0)

    // One millisecond before the cool-down ends it is still open; at its end, half-open.
    clock.advance(5_999)
    assert.equal(await circuitOf(gw), 'open')
    assert.equal((await speak(gw, token)).headers['retry-after'], '1')
    clock.advance(1)
    assert.equal(await circuitOf(gw), 'half_open')

    // The probe fails: open again, for twice as long.
    const probe = await speak(gw, token)
    assert.equal(probe.json.error_code, 'upstream_error')
    assert.equal(speechCalls(fake), 3)
    assert.equal(await circuitOf(gw), 'open')
    assert.equal((await speak(gw, token)).headers['retry-after'], '20')
    clock.advance(20_000)

    // The upstream is back: the probe's answer closes the circuit.
    fake.handler = answerAudio
    const ok = await speak(gw, token)
    assert.equal(ok.status, 200)
    assert.deepEqual(ok.body, AUDIO)
    assert.equal(await circuitOf(gw), 'closed')
    metrics = await scrape(gw.server.metricsUrl!)
    assert.equal(metrics.value('voxgate_upstream_circuit_state', { state: 'closed' }), 1)

    // Closed again with the count reset: one failure alone does not open it.
    fake.handler = answerError(503, 'busy', 'busy')
    assert.equal((await speak(gw, token)).status, 502)
    assert.equal(await circuitOf(gw), 'closed')
    fake.handler = answerAudio
    assert.equal((await speak(gw, token)).status, 200)
  })

  test("the client's own 4xx (400, 404, 422) never counts; 429 and 401/403 do", async () => {
    for (const status of [400, 404, 422, 400, 404, 422]) {
      fake.handler = answerError(status, 'bad', 'the request was bad')
      assert.equal((await speak(gw, token)).status, status)
    }
    assert.equal(await circuitOf(gw), 'closed')
    fake.handler = answerError(429, 'rate_limited', 'slow down')
    assert.equal((await speak(gw, token)).status, 429, 'a 429 passes through as before')
    fake.handler = answerError(401, 'unauthorized', 'bad key')
    assert.equal((await speak(gw, token)).json.error_code, 'upstream_unauthorized')
    assert.equal(await circuitOf(gw), 'open')
    clock.advance(10_000)
    fake.handler = answerAudio
    assert.equal((await speak(gw, token)).status, 200)
    assert.equal(await circuitOf(gw), 'closed')
  })

  test('an unreachable upstream counts, and the WebSocket handshake goes through the same circuit', async () => {
    // A server that refuses every request at the socket: unreachable.
    fake.handler = (req) => req.socket.destroy()
    for (let i = 0; i < 2; i++) assert.equal((await speak(gw, token)).json.error_code, 'upstream_unavailable')
    assert.equal(await circuitOf(gw), 'open')
    const ws = await handshake(wsUrl(gw.url, '?cartesia_version=2025-04-16'), bearer(token))
    assert.equal(ws.status, 502)
    assert.equal(ws.headers['retry-after'], '10')
    clock.advance(10_000)
    fake.handler = answerAudio
    assert.equal((await speak(gw, token)).status, 200)
  })
})

describe('two instances sharing Redis', () => {
  const clock = new ManualClock(Date.now())
  const prefix = uniquePrefix()
  let fake: FakeHttpUpstream
  let a: TestServer
  let b: TestServer
  let tokenA: string
  let tokenB: string

  before(async () => {
    fake = await FakeHttpUpstream.start()
    const options = {
      upstreamUrl: fake.url,
      upstreamApiKey: UPSTREAM_KEY,
      upstreamTimeoutMs: 5000,
      upstreamFailureThreshold: 2,
      upstreamCooldownMs: 10_000,
      redisUrl: SHARED_REDIS_URL,
      redisPrefix: prefix,
    }
    a = await startTestServer(options, { clock })
    b = await startTestServer(options, { clock })
    tokenA = await mint(a.url, a.apiKey, { grants: { tts: true }, expires_in: 3600 })
    tokenB = await mint(b.url, b.apiKey, { grants: { tts: true }, expires_in: 3600 })
    fake.reset()
  })
  after(async () => {
    await a.close()
    await b.close()
    await fake.close()
    await dropPrefix(SHARED_REDIS_URL, prefix)
  })

  test('failures on one open the circuit for both; one probe for the deployment; its answer closes both', async () => {
    fake.handler = answerError(500, 'internal', 'boom')
    assert.equal((await speak(a, tokenA)).status, 502)
    assert.equal((await speak(b, tokenB)).status, 502)
    assert.equal(await circuitOf(a), 'open')
    assert.equal(await circuitOf(b), 'open')
    const refused = await speak(b, tokenB)
    assert.equal(refused.json.error_code, 'upstream_unavailable')
    assert.equal(refused.headers['retry-after'], '10')
    assert.equal(speechCalls(fake), 2)

    clock.advance(10_000)
    assert.equal(await circuitOf(b), 'half_open')
    // A's request is the probe; the upstream holds it while B asks.
    let release: (() => void) | undefined
    fake.handler = (_req, res) => {
      release = () => answerAudio(_req, res, Buffer.alloc(0))
    }
    const probe = speak(a, tokenA)
    await fake.until(() => release !== undefined)
    const duringProbe = await speak(b, tokenB)
    assert.equal(duringProbe.status, 502)
    assert.equal(duringProbe.json.error_code, 'upstream_unavailable')
    assert.equal(duringProbe.headers['retry-after'], '5', 'until the probe times out at the latest')
    assert.equal(speechCalls(fake), 3, "B's request did not reach the upstream")
    release!()
    assert.equal((await probe).status, 200)
    assert.equal(await circuitOf(a), 'closed')
    assert.equal(await circuitOf(b), 'closed')
    fake.handler = answerAudio
    assert.equal((await speak(b, tokenB)).status, 200)
  })
})
