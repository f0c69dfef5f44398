/**
 * The circuit breaker counts what happens after the upstream accepted (issue 25, item 2): an answer
 * cut after its 200 headers (bytes, SSE, an STT upload's transcript), an SSE `error` event with a
 * 5xx status, a TTS or STT socket the upstream drops mid-context, each is a failure; enough of them
 * open the circuit (`/readyz` says `"upstream":"open"`, the next request gets 502
 * upstream_unavailable with Retry-After, never reaching the upstream). A clean finish is an answer
 * (the count starts again); a client that leaves mid-answer is neither. On a controlled clock.
 */
import { after, afterEach, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import https from 'node:https'
import type { ServerResponse } from 'node:http'
import { FakeHttpUpstream } from '../helpers/fake-http-upstream.ts'
import { FAKE_CHUNK, FakeUpstream } from '../helpers/fake-upstream.ts'
import { ManualClock } from '../helpers/clock.ts'
import { bearer, call, mint } from '../helpers/http.ts'
import { rawRequest, sseEvents } from '../helpers/raw-request.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { handshake, wsUrl } from '../helpers/ws.ts'
import { WsSession } from '../helpers/ws-session.ts'
import { openStt } from '../stt/helpers.ts'
import { mulawWav } from './upload-audio.ts'

const KEY = 'sk_car_mid_stream_upstream_key_0123456789'
const COOLDOWN_MS = 10_000
const BODY = {
  model_id: 'sonic-3',
  transcript: 'Hello from the gateway.',
  voice: { mode: 'id', id: 'upstream-voice' },
  output_format: { container: 'raw', encoding: 'pcm_s16le', sample_rate: 16000 },
}
const STT_Q = 'model=ink-whisper&encoding=pcm_s16le&sample_rate=16000&language=en'
const options = (upstreamUrl: string) => ({
  upstreamUrl,
  upstreamApiKey: KEY,
  upstreamTimeoutMs: 1000,
  upstreamFailureThreshold: 2,
  upstreamCooldownMs: COOLDOWN_MS,
})

async function circuitOf(gw: TestServer): Promise<string> {
  const res = await call(gw.url, '/readyz')
  assert.equal(res.status, 200)
  return res.json.checks.upstream
}

/** 200 and the first part of the answer, then the connection cut. */
const cutAfter =
  (contentType: string, part: string | Buffer): FakeHttpUpstream['handler'] =>
  (_req, res) => {
    res.writeHead(200, { 'content-type': contentType })
    res.write(part, () => res.socket?.destroy())
  }

const sseFrame = (event: object) => `event: ${(event as { type: string }).type}\ndata: ${JSON.stringify(event)}\n\n`

describe('HTTP relays', () => {
  const clock = new ManualClock(Date.now())
  let fake: FakeHttpUpstream
  let gw: TestServer
  let token: string
  const speak = (path = '/tts/bytes') =>
    rawRequest(gw.url, path, {
      headers: { 'content-type': 'application/json', ...bearer(token) },
      body: JSON.stringify(BODY),
    })
  const answerWhole: FakeHttpUpstream['handler'] = (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream' })
    res.end(Buffer.alloc(3200, 7))
  }
  /** The circuit open: the next request is turned away unsent; then the cool-down passes and an answer closes it. */
  async function assertOpenThenRecover() {
    assert.equal(await circuitOf(gw), 'open')
    const reached = fake.requests.length
    const refused = await speak()
    assert.deepEqual([refused.status, refused.json.error_code], [502, 'upstream_unavailable'])
    assert.equal(refused.headers['retry-after'], String(COOLDOWN_MS / 1000))
    assert.equal(fake.requests.length, reached, 'the open circuit kept the request from the upstream')
    clock.advance(COOLDOWN_MS)
    fake.handler = answerWhole
    assert.equal((await speak()).status, 200)
    assert.equal(await circuitOf(gw), 'closed')
  }

  before(async () => {
    fake = await FakeHttpUpstream.start()
    gw = await startTestServer(options(fake.url), { clock })
    token = await mint(gw.url, gw.apiKey, { grants: { tts: true, stt: true }, expires_in: 3600 })
  })
  afterEach(async () => {
    await fake.until(() => fake.open === 0)
    fake.reset()
  })
  after(async () => {
    await gw.close()
    await fake.close()
  })

  test('bytes cut after the 200: each a failure, two open the circuit', async () => {
    fake.handler = cutAfter('application/octet-stream', Buffer.alloc(3200, 1))
    for (let i = 0; i < 2; i++) {
      const res = await speak()
      assert.deepEqual([res.status, res.complete, res.body.length], [200, false, 3200])
    }
    await assertOpenThenRecover()
  })

  test('SSE cut before its last event, and an SSE error event with a 5xx status, are failures', async () => {
    fake.handler = cutAfter('text/event-stream', sseFrame({ type: 'chunk', data: FAKE_CHUNK, done: false }))
    const cut = await speak('/tts/sse')
    assert.deepEqual(
      sseEvents(cut.body).map((e) => [e.type, e.error_code]),
      [
        ['chunk', undefined],
        ['error', 'upstream_error'],
      ],
    )
    assert.equal(await circuitOf(gw), 'closed', 'one failure of two')
    fake.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.end(sseFrame({ type: 'error', error_code: 'internal', status_code: 500, done: true }))
    }
    const failed = await speak('/tts/sse')
    assert.deepEqual(
      sseEvents(failed.body).map((e) => [e.type, e.status_code]),
      [['error', 500]],
    )
    await assertOpenThenRecover()
  })

  test("a clean finish starts the count again; an SSE error event with the request's 4xx is an answer", async () => {
    fake.handler = cutAfter('application/octet-stream', Buffer.alloc(3200, 1))
    assert.equal((await speak()).complete, false)
    fake.handler = answerWhole
    assert.equal((await speak()).complete, true)
    fake.handler = cutAfter('application/octet-stream', Buffer.alloc(3200, 1))
    assert.equal((await speak()).complete, false)
    assert.equal(await circuitOf(gw), 'closed', 'a failure, an answer, a failure: never two in a row')
    fake.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.end(sseFrame({ type: 'error', error_code: 'invalid_request', status_code: 400, done: true }))
    }
    assert.equal(sseEvents((await speak('/tts/sse')).body)[0].status_code, 400)
    fake.handler = cutAfter('application/octet-stream', Buffer.alloc(3200, 1))
    assert.equal((await speak()).complete, false)
    assert.equal(await circuitOf(gw), 'closed', 'the 400 event reset the count')
    fake.handler = answerWhole
    assert.equal((await speak()).status, 200)
  })

  test("a client's own abort mid-answer never counts", async () => {
    // The upstream sends a first chunk and holds the rest; the client reads it and leaves.
    let held: ServerResponse | undefined
    fake.handler = (_req, res) => {
      held = res
      res.writeHead(200, { 'content-type': 'application/octet-stream' })
      res.write(Buffer.alloc(3200, 1))
    }
    for (let i = 0; i < 3; i++) {
      held = undefined
      await abortAfterFirstChunk(gw.url, token)
      // The gateway lets go of the upstream answer once its client is gone.
      await fake.until(() => fake.open === 0)
      assert.ok(held)
    }
    assert.equal(await circuitOf(gw), 'closed')
    fake.handler = answerWhole
    assert.equal((await speak()).status, 200)
  })

  test('an STT upload whose transcript is cut after the 200 is a failure (502 without a fallback)', async () => {
    fake.handler = cutAfter('application/json', '{"type":"transcript","text":"hel')
    for (let i = 0; i < 2; i++) {
      const form = new FormData()
      form.append('file', new Blob([new Uint8Array(mulawWav(1))], { type: 'audio/wav' }), 'a.wav')
      form.append('model', 'ink-whisper')
      const res = await fetch(`${gw.url}/stt`, { method: 'POST', headers: bearer(token), body: form })
      assert.equal(res.status, 502)
      assert.equal((await res.json()).error_code, 'upstream_error')
    }
    await assertOpenThenRecover()
  })
})

/** POSTs /tts/bytes and destroys the request once the first body chunk arrives. */
function abortAfterFirstChunk(url: string, token: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = https.request(new URL('/tts/bytes', url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...bearer(token) },
      agent: false,
    })
    req.on('response', (res) => {
      assert.equal(res.statusCode, 200)
      res.once('data', () => {
        req.destroy()
        resolve()
      })
    })
    req.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' ? undefined : reject(err)))
    req.end(JSON.stringify(BODY))
  })
}

describe('sockets', () => {
  const clock = new ManualClock(Date.now())
  let fake: FakeUpstream
  let gw: TestServer
  let token: string
  const url = () => wsUrl(gw.url, '?cartesia_version=2025-04-16')

  before(async () => {
    fake = await FakeUpstream.start()
    gw = await startTestServer(options(fake.url), { clock })
    token = await mint(gw.url, gw.apiKey, { grants: { tts: true, stt: true }, expires_in: 3600 })
  })
  afterEach(async () => {
    await fake.until(() => fake.open === 0)
    fake.mode = 'accept'
    fake.onMessage = undefined
  })
  after(async () => {
    await gw.close()
    await fake.close()
  })

  /** The open circuit refuses the next handshake unsent; after the cool-down a context's `done` closes it. */
  async function assertOpenThenRecover() {
    assert.equal(await circuitOf(gw), 'open')
    const reached = fake.connections.length
    const refused = await handshake(url(), bearer(token))
    assert.equal(refused.status, 502)
    assert.equal(JSON.parse(refused.body).error_code, 'upstream_unavailable')
    assert.equal(refused.headers['retry-after'], String(COOLDOWN_MS / 1000))
    assert.equal(fake.connections.length, reached)
    clock.advance(COOLDOWN_MS)
    const s = await WsSession.open(url(), bearer(token))
    s.send({ ...BODY, context_id: 'ok' })
    assert.equal((await s.end('ok')).type, 'done')
    assert.equal(await circuitOf(gw), 'closed')
    s.close()
    await s.closed()
  }

  test('a TTS socket the upstream drops mid-context is a failure; two open the circuit', async () => {
    fake.onMessage = (c) => c.ws.terminate()
    for (let i = 0; i < 2; i++) {
      const s = await WsSession.open(url(), bearer(token))
      s.send({ ...BODY, context_id: `c${i}` })
      const end = await s.end(`c${i}`)
      assert.deepEqual([end.type, end.error_code], ['error', 'upstream_error'])
      assert.equal(await s.closed(), 1011)
    }
    fake.onMessage = undefined
    await assertOpenThenRecover()
  })

  test("a TTS context's 5xx error event is a failure, its done an answer", async () => {
    fake.onMessage = (c, msg) =>
      c.ws.send(JSON.stringify({ type: 'error', status_code: 500, done: true, context_id: msg.context_id }))
    const s = await WsSession.open(url(), bearer(token))
    s.send({ ...BODY, context_id: 'a' })
    assert.equal((await s.end('a')).status_code, 500)
    s.send({ ...BODY, context_id: 'b' })
    assert.equal((await s.end('b')).status_code, 500)
    s.close()
    await s.closed()
    fake.onMessage = undefined
    await assertOpenThenRecover()
  })

  test('an STT socket the upstream drops is a failure; two open the circuit', async () => {
    fake.onMessage = (c) => c.ws.terminate()
    for (let i = 0; i < 2; i++) {
      const s = openStt(gw.url, '/stt/websocket', STT_Q, bearer(token))
      await s.opened
      s.ws.send(new Uint8Array(3200))
      assert.equal((await s.closed).code, 1011)
      assert.deepEqual(
        s.events.map((e) => [e.type, e.error_code]),
        [['error', 'upstream_error']],
      )
    }
    fake.onMessage = undefined
    await assertOpenThenRecover()
  })

  test('a client that closes its sockets mid-context never counts', async () => {
    fake.onMessage = () => undefined
    for (let i = 0; i < 3; i++) {
      const s = await WsSession.open(url(), bearer(token))
      s.send({ ...BODY, context_id: `gone${i}` })
      await fake.until(() => fake.connections.at(-1)?.messages.length === 1)
      s.close()
      await s.closed()
      await fake.until(() => fake.open === 0)
    }
    assert.equal(await circuitOf(gw), 'closed')
  })
})

describe('an upstream that stalls after its 200', () => {
  let fake: FakeHttpUpstream
  let gw: TestServer
  let token: string

  before(async () => {
    fake = await FakeHttpUpstream.start()
    // The stall is the fake's own (it never sends again): a slow machine only makes the limit come later.
    gw = await startTestServer({ ...options(fake.url), upstreamIdleMs: 300, upstreamFailureThreshold: 1 })
    token = await mint(gw.url, gw.apiKey, { grants: { tts: true }, expires_in: 3600 })
  })
  after(async () => {
    await gw.close()
    await fake.close()
  })

  test('past the idle limit is a failure: the circuit opens', async () => {
    fake.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.write(sseFrame({ type: 'chunk', data: FAKE_CHUNK, done: false }))
    }
    const res = await rawRequest(gw.url, '/tts/sse', {
      headers: { 'content-type': 'application/json', ...bearer(token) },
      body: JSON.stringify(BODY),
    })
    assert.deepEqual(
      sseEvents(res.body).map((e) => [e.type, e.error_code]),
      [
        ['chunk', undefined],
        ['error', 'upstream_timeout'],
      ],
    )
    assert.equal(await circuitOf(gw), 'open')
    await fake.until(() => fake.open === 0)
  })
})
