/**
 * A TTS socket context whose upstream stalls past the idle limit (`upstreamIdleMs`) is a failure for
 * the circuit breaker, as a stalled bytes or SSE answer is (circuit-mid-stream.test.ts). Without a
 * fallback the context ends with `upstream_timeout` and the socket closes 1011; with `--fallback
 * local` the context ends with `upstream_timeout` (never spoken locally half-way), the client's socket
 * stays open and its next context is spoken locally (docs/gateway.md). The breaker's cool-down runs
 * on a controlled clock; the stall is the fake's own (it never answers), so a slow machine only makes
 * the 300 ms limit come later, never wrongly.
 */
import { after, afterEach, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { FakeUpstream } from '../helpers/fake-upstream.ts'
import { ManualClock } from '../helpers/clock.ts'
import { bearer, call, mint } from '../helpers/http.ts'
import { startFallbackGateway } from '../helpers/fallback-gateway.ts'
import { scrape } from '../helpers/prometheus.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { handshake, wsUrl } from '../helpers/ws.ts'
import { WsSession } from '../helpers/ws-session.ts'

const KEY = 'sk_car_stalled_socket_upstream_key_0123456789'
const COOLDOWN_MS = 10_000
const request = (context_id: string) => ({
  model_id: 'sonic-3',
  transcript: 'Hello from a stalled socket.',
  voice: { mode: 'id', id: 'upstream-voice' },
  output_format: { container: 'raw', encoding: 'pcm_s16le', sample_rate: 16000 },
  context_id,
})
/** One failure opens the circuit; the idle limit is short, the connect timeout not in play. */
const options = (upstreamUrl: string) => ({
  upstreamUrl,
  upstreamApiKey: KEY,
  upstreamTimeoutMs: 1000,
  upstreamIdleMs: 300,
  upstreamFailureThreshold: 1,
  upstreamCooldownMs: COOLDOWN_MS,
})

async function circuitOf(gw: TestServer): Promise<string> {
  const res = await call(gw.url, '/readyz')
  assert.equal(res.status, 200)
  return res.json.checks.upstream
}

/** `voxgate_upstream_fallbacks_total{reason}` (0 before the first). */
const fallbacks = async (gw: TestServer, reason: string) =>
  (await scrape(gw.server.metricsUrl!)).value('voxgate_upstream_fallbacks_total', { reason }) ?? 0

let fake: FakeUpstream

before(async () => {
  fake = await FakeUpstream.start()
})
afterEach(async () => {
  await fake.until(() => fake.open === 0)
  fake.onMessage = undefined
})
after(async () => {
  await fake.close()
})

/** A gateway of its own per case (each opens its circuit), its token, and its socket URL. */
async function gatewayWith(start: () => Promise<TestServer>) {
  const gw = await start()
  const token = await mint(gw.url, gw.apiKey, { grants: { tts: true }, expires_in: 3600 })
  return { gw, token, open: () => WsSession.open(wsUrl(gw.url), bearer(token)) }
}

describe('without a fallback', () => {
  const clock = new ManualClock(Date.now())
  let g: Awaited<ReturnType<typeof gatewayWith>>
  before(async () => {
    g = await gatewayWith(() => startTestServer(options(fake.url), { clock }))
  })
  after(async () => {
    await g.gw.close()
  })

  test('a stalled context: upstream_timeout, close 1011, the circuit opens; the cool-down over, an answer closes it', async () => {
    fake.onMessage = () => undefined
    const s = await g.open()
    s.send(request('stalled'))
    const end = await s.end('stalled')
    assert.deepEqual([end.type, end.error_code, end.status_code], ['error', 'upstream_timeout', 504])
    assert.equal(await s.closed(), 1011)
    await fake.until(() => fake.open === 0)
    assert.equal(await circuitOf(g.gw), 'open')
    const reached = fake.connections.length
    const refused = await handshake(wsUrl(g.gw.url), bearer(g.token))
    assert.equal(refused.status, 502)
    assert.equal(JSON.parse(refused.body).error_code, 'upstream_unavailable')
    assert.equal(refused.headers['retry-after'], String(COOLDOWN_MS / 1000))
    assert.equal(fake.connections.length, reached, 'the open circuit kept the socket from the upstream')
    fake.onMessage = undefined
    clock.advance(COOLDOWN_MS)
    const again = await g.open()
    again.send(request('answered'))
    assert.equal((await again.end('answered')).type, 'done')
    assert.equal(await circuitOf(g.gw), 'closed')
    again.close()
    await again.closed()
  })
})

describe('with --fallback local', () => {
  let g: Awaited<ReturnType<typeof gatewayWith>>
  before(async () => {
    g = await gatewayWith(() => startFallbackGateway({ ...options(fake.url), metrics: true, metricsPort: 0 }))
  })
  after(async () => {
    await g.gw.close()
  })

  test('a stalled context: upstream_timeout, the socket stays open and its next context is spoken locally; the circuit opens', async () => {
    fake.onMessage = () => undefined
    const s = await g.open()
    const conn = fake.connections.at(-1)!
    s.send(request('stalled'))
    const end = await s.end('stalled')
    assert.deepEqual([end.type, end.error_code, end.status_code], ['error', 'upstream_timeout', 504])
    assert.equal(end.fallback, undefined, 'the relayed context was not spoken locally')
    await conn.closed
    assert.equal(await circuitOf(g.gw), 'open')
    assert.equal(await fallbacks(g.gw, 'timeout'), 1)
    const reached = fake.connections.length
    s.send(request('local'))
    const local = await s.end('local')
    assert.equal(local.type, 'done')
    for (const e of s.of('local')) assert.equal(e.fallback, 'local')
    assert.ok(s.of('local').some((e) => e.type === 'chunk'))
    assert.equal(s.closeCode, undefined, 'the socket stayed open')
    assert.equal(fake.connections.length, reached, 'the next context never reached the upstream')
    s.close()
    await s.closed()
  })
})
