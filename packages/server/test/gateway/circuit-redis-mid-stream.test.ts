/**
 * Mid-stream failures with the circuit in Redis (issue 25, item 2; docs/gateway.md "The circuit
 * breaker"): two gateway instances share one Redis key prefix (the machine's Redis, this run's own
 * prefix). Answers instance A's upstream cuts after their 200 open the circuit that instance B then
 * sees (`/readyz` says "open", `voxgate_upstream_circuit_state` too) and B's requests never reach
 * the upstream; after the cool-down one instance's request is the probe and the other's are turned
 * away while it is in flight; the probe cut mid-stream in turn reopens the circuit, for twice as long,
 * for both; the next probe's whole answer closes it for both. On a controlled clock.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import type { ServerResponse } from 'node:http'
import { eventually } from '../helpers/controlled-speech.ts'
import { FakeHttpUpstream } from '../helpers/fake-http-upstream.ts'
import { ManualClock } from '../helpers/clock.ts'
import { bearer, call, mint } from '../helpers/http.ts'
import { scrape } from '../helpers/prometheus.ts'
import { rawRequest } from '../helpers/raw-request.ts'
import { dropPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

const COOLDOWN_MS = 10_000
const BODY = {
  model_id: 'sonic-3',
  transcript: 'Hello from two gateways.',
  voice: { mode: 'id', id: 'upstream-voice' },
  output_format: { container: 'raw', encoding: 'pcm_s16le', sample_rate: 16000 },
}
const FIRST = Buffer.alloc(3200, 1)
const WHOLE = Buffer.alloc(6400, 7)

const clock = new ManualClock(Date.now())
const prefix = uniquePrefix()
let fake: FakeHttpUpstream
let a: TestServer
let b: TestServer
const tokens = new Map<TestServer, string>()

before(async () => {
  fake = await FakeHttpUpstream.start()
  const options = {
    upstreamUrl: fake.url,
    upstreamApiKey: 'sk_car_two_instances_upstream_key_0123456789',
    upstreamTimeoutMs: 5000,
    upstreamFailureThreshold: 2,
    upstreamCooldownMs: COOLDOWN_MS,
    redisUrl: SHARED_REDIS_URL,
    redisPrefix: prefix,
    metrics: true,
    metricsPort: 0,
  }
  a = await startTestServer(options, { clock })
  b = await startTestServer(options, { clock })
  for (const gw of [a, b]) tokens.set(gw, await mint(gw.url, gw.apiKey, { grants: { tts: true }, expires_in: 3600 }))
  fake.reset()
})
after(async () => {
  await a.close()
  await b.close()
  await fake.close()
  await dropPrefix(SHARED_REDIS_URL, prefix)
})

const speak = (gw: TestServer) =>
  rawRequest(gw.url, '/tts/bytes', {
    headers: { 'content-type': 'application/json', ...bearer(tokens.get(gw)!) },
    body: JSON.stringify(BODY),
  })
const speechCalls = () => fake.requests.filter((r) => r.url.startsWith('/tts/')).length

async function readyz(gw: TestServer): Promise<string> {
  const res = await call(gw.url, '/readyz')
  assert.equal(res.status, 200, 'the circuit never fails readiness')
  return res.json.checks.upstream
}

/** The state `voxgate_upstream_circuit_state` marks 1 (and every other 0). */
async function metricState(gw: TestServer): Promise<string> {
  const s = await scrape(gw.server.metricsUrl!)
  const on = (['closed', 'open', 'half_open'] as const).filter(
    (state) => s.value('voxgate_upstream_circuit_state', { state }) === 1,
  )
  assert.equal(on.length, 1)
  return on[0]!
}

/** Both instances, by both readings. */
async function assertBoth(state: string): Promise<void> {
  for (const gw of [a, b]) assert.deepEqual([await readyz(gw), await metricState(gw)], [state, state])
}

/** 200 and a first chunk; the rest held until `cut` (the connection destroyed mid-answer). */
function holdAfterFirstChunk(): { cut: () => void; started: () => boolean } {
  let held: ServerResponse | undefined
  fake.handler = (_req, res) => {
    held = res
    res.writeHead(200, { 'content-type': 'application/octet-stream' })
    res.write(FIRST)
  }
  return { cut: () => held!.socket!.destroy(), started: () => held !== undefined }
}

test("A's mid-stream failures open B's circuit; one probe for both, its cut reopens both for twice as long, the next one's answer closes both", async () => {
  await assertBoth('closed')
  fake.handler = (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream' })
    res.write(FIRST, () => res.socket?.destroy())
  }
  for (let i = 0; i < 2; i++) {
    const res = await speak(a)
    assert.deepEqual([res.status, res.complete, res.body.length], [200, false, FIRST.length])
  }
  // A reports as it sees the cut; B reads Redis on its own connection.
  await eventually(async () => (await readyz(b)) === 'open', "B sees the circuit A's failures opened")
  await assertBoth('open')
  const refused = await speak(b)
  assert.deepEqual([refused.status, refused.json.error_code], [502, 'upstream_unavailable'])
  assert.equal(refused.headers['retry-after'], String(COOLDOWN_MS / 1000))
  assert.equal(speechCalls(), 2, "B's request never reached the upstream")

  // Half-open: A's request is the probe, held mid-answer; B is turned away meanwhile.
  clock.advance(COOLDOWN_MS)
  await assertBoth('half_open')
  const held = holdAfterFirstChunk()
  const probe = speak(a)
  await fake.until(held.started)
  const duringProbe = await speak(b)
  assert.deepEqual([duringProbe.status, duringProbe.json.error_code], [502, 'upstream_unavailable'])
  assert.equal(duringProbe.headers['retry-after'], '5', 'until the probe times out at the latest')
  const alsoA = await speak(a)
  assert.equal(alsoA.status, 502, 'the probe is one for the deployment, not one per instance')
  assert.equal(speechCalls(), 3, 'only the probe reached the upstream')

  // The probe is cut mid-stream: a failure, so the circuit opens again, twice as long, for both.
  held.cut()
  const cut = await probe
  assert.deepEqual([cut.status, cut.complete], [200, false])
  await eventually(async () => (await readyz(b)) === 'open', "B sees the probe's failure")
  await assertBoth('open')
  assert.equal((await speak(b)).headers['retry-after'], String((2 * COOLDOWN_MS) / 1000))
  clock.advance(COOLDOWN_MS)
  await assertBoth('open')

  // Twice the cool-down over: B's request probes this time, and its whole answer closes both.
  clock.advance(COOLDOWN_MS)
  fake.handler = (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream' })
    res.end(WHOLE)
  }
  const answered = await speak(b)
  assert.deepEqual([answered.status, answered.complete, answered.body], [200, true, WHOLE])
  await eventually(async () => (await readyz(a)) === 'closed', "A sees the probe's answer")
  await assertBoth('closed')
  assert.equal(speechCalls(), 4, 'two cut answers, the cut probe, the answered probe')
  assert.equal((await speak(a)).status, 200)
  assert.equal(speechCalls(), 5)
})
