/**
 * `--fallback local` for the STT sockets (issue 25, item 1): an upstream that refuses the handshake
 * (5xx, 429, 401), never answers it, or whose circuit is open leaves the client's socket to open all
 * the same (101 labelled `X-Voxgate-Fallback: local`), heard by the local recogniser with every event
 * `fallback: "local"` and the same finals a local voxgate makes; the client's own 400 and a query the
 * local recogniser cannot serve keep the upstream's answer. A socket the upstream drops once relayed
 * gets `upstream_error` and stays open: the audio sent after it is heard by the local recogniser,
 * labelled, and charged once (what the upstream had is not replayed). A revoke ends a fallback
 * socket with token_revoked and 4401, as a local one.
 */
import { after, afterEach, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { FakeUpstream } from '../helpers/fake-upstream.ts'
import { bearer, call, mint } from '../helpers/http.ts'
import { scrape } from '../helpers/prometheus.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { startFallbackGateway } from '../helpers/fallback-gateway.ts'
import { createSpeechService } from '../../src/tts/index.ts'
import {
  bytesOf,
  concatPcm,
  FLITE_VOICES,
  openStt,
  refusedHandshake,
  sendAudio,
  silence,
  speak,
} from '../stt/helpers.ts'

const UPSTREAM_KEY = 'sk_car_fake_stt_fallback_key_0123456789'
const Q = 'model=ink-2&encoding=pcm_s16le&sample_rate=16000&language=en'
const TEXT = 'Please call me back when you get home tonight.'
/** 100 ms of 16 kHz pcm_s16le. */
const FRAME = 3200
let fake: FakeUpstream
let gw: TestServer
let local: TestServer
let speechPcm: Buffer

before(async () => {
  fake = await FakeUpstream.start()
  gw = await startFallbackGateway({
    upstreamUrl: fake.url,
    upstreamApiKey: UPSTREAM_KEY,
    metrics: true,
    metricsPort: 0,
  })
  local = await startTestServer()
  // Flite speaks each sentence in a fresh instance: warming the engines (seconds of CPU) changes no byte.
  const speech = await createSpeechService({ workers: 1, warm: false })
  try {
    speechPcm = bytesOf(concatPcm([silence(0.3), await speak(speech, FLITE_VOICES.get('slt')!, TEXT), silence(0.6)]))
  } finally {
    await speech.close()
  }
})
afterEach(async () => {
  await fake.until(() => fake.open === 0)
  fake.mode = 'accept'
  fake.onMessage = undefined
})
after(async () => {
  assert.ok(!gw.logs.text().includes(UPSTREAM_KEY))
  await gw.close()
  await local.close()
  await fake.close()
})

const sttToken = (server: TestServer, extra: Record<string, unknown> = {}) =>
  mint(server.url, server.apiKey, { grants: { stt: true }, expires_in: 600, ...extra })

let heardLocally: Promise<string> | undefined
/** What a local voxgate's /stt/websocket makes of the same audio (once: it is the same every time). */
const localText = async () => (heardLocally ??= sttToken(local).then(async (t) => (await transcribe(local, t)).text))

/** Speaks TEXT into `/stt/websocket`, finalizes and closes: the finals' text, every event, the close code. */
async function transcribe(server: TestServer, token: string, path = '/stt/websocket') {
  const s = openStt(server.url, path, Q, bearer(token))
  const upgraded = new Promise<string | undefined>((resolve) =>
    s.ws.once('upgrade', (res) => resolve(res.headers['x-voxgate-fallback'] as string | undefined)),
  )
  await s.opened
  sendAudio(s.ws, speechPcm, FRAME)
  s.ws.send('finalize')
  await s.next('flush_done')
  s.ws.send('close')
  await s.next('done')
  const { code } = await s.closed
  const finals = s.events.filter((e) => e.type === 'transcript' && e.is_final).map((e) => e.text)
  return { text: finals.join(''), events: s.events, code, header: await upgraded }
}

describe('the upstream refuses or ignores the handshake', () => {
  const refusals: [string, FakeUpstream['mode'], string][] = [
    ['500', { status: 500, body: '{"error_code":"internal","message":"boom"}' }, 'server_error'],
    ['429', { status: 429, body: '{"error_code":"rate_limited","message":"slow"}' }, 'rate_limited'],
    ['401', { status: 401, body: '{"error_code":"unauthorized","message":"bad key"}' }, 'unauthorized'],
    ['no answer (timeout)', 'hang', 'timeout'],
  ]
  for (const [what, mode, reason] of refusals) {
    test(`${what}: /stt/websocket opens, heard locally, every event labelled, the audio charged`, async () => {
      fake.mode = mode
      const token = await sttToken(gw)
      const metric = async () =>
        (await scrape(gw.server.metricsUrl!)).value('voxgate_upstream_fallbacks_total', { reason }) ?? 0
      const before = await metric()
      const heard = await transcribe(gw, token)
      assert.equal(heard.header, 'local')
      assert.equal(heard.code, 1000)
      assert.deepEqual([...new Set(heard.events.map((e) => e.type))].sort(), ['done', 'flush_done', 'transcript'])
      for (const e of heard.events) assert.equal(e.fallback, 'local', JSON.stringify(e))
      assert.equal(heard.text, await localText())
      assert.ok(heard.text.length > 0)
      assert.equal(await metric(), before + 1)
      const self = await call(gw.url, '/access-token/self', { headers: bearer(token) })
      assert.equal(self.json.usage.audio_seconds, Math.round((speechPcm.length * 1000) / (FRAME * 10)) / 1000)
    })
  }

  test('/stt/turns/websocket opens locally too: `connected` first, labelled', async () => {
    fake.mode = { status: 503, body: '{}' }
    const s = openStt(gw.url, '/stt/turns/websocket', Q, bearer(await sttToken(gw)))
    await s.opened
    const connected = await s.next('connected')
    assert.equal(connected.fallback, 'local')
    s.ws.send(JSON.stringify({ type: 'close' }))
    assert.equal((await s.closed).code, 1000)
  })

  test("the client's own 400: the handshake is refused as before, no fallback", async () => {
    fake.mode = { status: 400, body: '{"error_code":"bad_request","message":"bad query"}' }
    const refused = await refusedHandshake(gw.url, `/stt/websocket?${Q}`, bearer(await sttToken(gw)))
    assert.deepEqual([refused.status, refused.body.error_code], [400, 'bad_request'])
    assert.equal(refused.headers['x-voxgate-fallback'], undefined)
  })

  test("a language the local recogniser does not know keeps the upstream's failure (502)", async () => {
    fake.mode = { status: 500, body: '{}' }
    const q = Q.replace('language=en', 'language=fr')
    const refused = await refusedHandshake(gw.url, `/stt/websocket?${q}`, bearer(await sttToken(gw)))
    assert.deepEqual([refused.status, refused.body.error_code], [502, 'upstream_error'])
  })

  test('an upstream model the local recogniser does not know is heard as ink-2', async () => {
    fake.mode = { status: 500, body: '{}' }
    const q = Q.replace('model=ink-2', 'model=ink-3-upstream-only')
    const s = openStt(gw.url, '/stt/websocket', q, bearer(await sttToken(gw)))
    await s.opened
    s.ws.send('close')
    assert.equal((await s.next('done')).fallback, 'local')
    assert.equal((await s.closed).code, 1000)
  })
})

describe('a socket in flight', () => {
  test('an upstream that drops a relayed socket: upstream_error, the socket stays open, later audio heard locally', async () => {
    // The upstream takes the first frame, then drops the connection.
    fake.onMessage = (c) => c.ws.terminate()
    const token = await sttToken(gw)
    const fallbacks = async () =>
      (await scrape(gw.server.metricsUrl!)).value('voxgate_upstream_fallbacks_total', { reason: 'unreachable' }) ?? 0
    const before = await fallbacks()
    const s = openStt(gw.url, '/stt/websocket', Q, bearer(token))
    const upgraded = new Promise((resolve) => s.ws.once('upgrade', (res) => resolve(res.headers['x-voxgate-fallback'])))
    await s.opened
    assert.equal(await upgraded, undefined, 'relayed, not a fallback')
    s.ws.send(new Uint8Array(FRAME))
    const lost = await s.next('error')
    assert.deepEqual([lost.error_code, lost.status_code, lost.fallback], ['upstream_error', 502, undefined])
    // The audio after the loss goes to the local recogniser; the frame the upstream had is not replayed.
    sendAudio(s.ws, speechPcm, FRAME)
    s.ws.send('finalize')
    await s.next('flush_done')
    s.ws.send('close')
    await s.next('done')
    assert.equal((await s.closed).code, 1000)
    const after = s.events.slice(1)
    assert.equal(s.events[0], lost, 'the error event comes first')
    assert.deepEqual(
      [...new Set(after.map((e) => e.type))].sort(),
      ['done', 'flush_done', 'transcript'],
      'then only the local socket speaks',
    )
    for (const e of after) assert.equal(e.fallback, 'local', JSON.stringify(e))
    assert.deepEqual(
      after.filter((e) => e.type !== 'transcript').map((e) => e.type),
      ['flush_done', 'done'],
    )
    const finals = after.filter((e) => e.type === 'transcript' && e.is_final).map((e) => e.text)
    assert.equal(finals.join(''), await localText())
    assert.equal(await fallbacks(), before + 1)
    // Charged once: the frame relayed before the loss, and the audio heard locally after it.
    const self = await call(gw.url, '/access-token/self', { headers: bearer(token) })
    assert.equal(self.json.usage.audio_seconds, Math.round(((FRAME + speechPcm.length) * 1000) / (FRAME * 10)) / 1000)
    assert.equal(fake.connections.at(-1)?.messages.length, 1, 'the upstream had one frame')
  })

  test('a relayed turns socket taken over locally is not greeted twice', async () => {
    fake.greeting = { type: 'connected', request_id: 'up-1' }
    fake.onMessage = (c) => c.ws.terminate()
    try {
      const s = openStt(gw.url, '/stt/turns/websocket', Q, bearer(await sttToken(gw)))
      await s.opened
      await s.next('connected')
      s.ws.send(new Uint8Array(FRAME))
      assert.equal((await s.next('error')).error_code, 'upstream_error')
      s.ws.send(JSON.stringify({ type: 'close' }))
      assert.equal((await s.closed).code, 1000)
      assert.deepEqual(
        s.events.map((e) => [e.type, e.fallback]),
        [
          ['connected', undefined],
          ['error', undefined],
        ],
      )
    } finally {
      fake.greeting = undefined
    }
  })

  test('a revoke ends a fallback socket like a local one: token_revoked, then 4401', async () => {
    fake.mode = { status: 503, body: '{}' }
    const token = await sttToken(gw)
    const s = openStt(gw.url, '/stt/websocket', Q, bearer(token))
    await s.opened
    s.ws.send(new Uint8Array(FRAME))
    const revoked = await call(gw.url, '/access-token/revoke', { headers: bearer(gw.apiKey), body: { token } })
    assert.equal(revoked.status, 200)
    assert.equal((await s.closed).code, 4401)
    const err = s.events.find((e) => e.type === 'error')
    assert.deepEqual([err?.error_code, err?.fallback], ['token_revoked', 'local'])
  })
})

describe('the circuit open', () => {
  let breaker: TestServer
  before(async () => {
    breaker = await startTestServer({
      upstreamUrl: fake.url,
      upstreamApiKey: UPSTREAM_KEY,
      upstreamFailureThreshold: 1,
      upstreamCooldownMs: 300_000,
      fallback: 'local',
    })
  })
  after(() => breaker.close())

  test('one failure opens it; the next socket never reaches the upstream and is heard locally', async () => {
    fake.mode = { status: 500, body: '{}' }
    const token = await sttToken(breaker)
    const first = openStt(breaker.url, '/stt/websocket', Q, bearer(token))
    await first.opened
    first.ws.close()
    await first.closed
    fake.mode = 'accept'
    const reached = fake.connections.length
    const second = openStt(breaker.url, '/stt/websocket', Q, bearer(token))
    await second.opened
    second.ws.send('close')
    assert.equal((await second.next('done')).fallback, 'local')
    assert.equal((await second.closed).code, 1000)
    assert.equal(fake.connections.length, reached, 'the open circuit kept the socket from the upstream')
    const ready = await call(breaker.url, '/readyz')
    assert.equal(ready.json.checks.upstream, 'open')
  })
})
