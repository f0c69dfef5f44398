/**
 * The idle limit between upstream chunks (`upstreamIdleMs`, `--upstream-idle-seconds`): an upstream
 * that has started answering and then stalls ends the relay with `upstream_timeout` and frees its
 * slot, on every transport (bytes, SSE, TTS socket contexts, STT sockets); a socket with nothing
 * owed is never timed. The gateways here take a 300 ms limit; the stalls are the fakes' own (they
 * never send again), so a slow machine can only make the limit arrive later, never wrongly.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { resolveOptions } from '../../src/cli/options.ts'
import { SERVE_OPTIONS } from '../../src/cli/option-table.ts'
import { parseConfig } from '../../src/config.ts'
import { FakeHttpUpstream } from '../helpers/fake-http-upstream.ts'
import { FAKE_CHUNK, FakeUpstream } from '../helpers/fake-upstream.ts'
import { bearer, mint } from '../helpers/http.ts'
import { rawRequest, sseEvents } from '../helpers/raw-request.ts'
import { ttsBody } from '../helpers/security.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { wsUrl } from '../helpers/ws.ts'
import { WsSession } from '../helpers/ws-session.ts'
import { openStt } from '../stt/helpers.ts'
import { mulawWav } from './upload-audio.ts'

const KEY = 'sk_car_idle_upstream_key_0123456789abcdef'
const IDLE_MS = 300
const VOICE = 'upstream-voice'
const BODY = { ...ttsBody(VOICE, 'Hello.'), voice: { mode: 'id', id: VOICE } }
let http: FakeHttpUpstream
let ws: FakeUpstream
let gwHttp: TestServer
let gwWs: TestServer

before(async () => {
  http = await FakeHttpUpstream.start()
  ws = await FakeUpstream.start()
  const common = { upstreamApiKey: KEY, upstreamTimeoutMs: 1000, upstreamIdleMs: IDLE_MS }
  gwHttp = await startTestServer({ ...common, upstreamUrl: http.url })
  gwWs = await startTestServer({ ...common, upstreamUrl: ws.url })
})
after(async () => {
  await gwHttp.close()
  await gwWs.close()
  await http.close()
  await ws.close()
})

const oneStream = (gw: TestServer, grants: Record<string, boolean>) =>
  mint(gw.url, gw.apiKey, { grants, limits: { concurrent_streams: 1 }, expires_in: 600 })

describe('HTTP relays', () => {
  test('bytes: an upstream that stalls after its first chunk is cut (an aborted body) and the slot is freed', async () => {
    http.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' })
      res.write(Buffer.alloc(3200, 1))
    }
    const tok = await oneStream(gwHttp, { tts: true })
    const headers = { 'content-type': 'application/json', ...bearer(tok) }
    const res = await rawRequest(gwHttp.url, '/tts/bytes', { headers, body: JSON.stringify(BODY) })
    assert.equal(res.status, 200)
    assert.equal(res.complete, false, 'the body was cut, not ended')
    assert.equal(res.body.length, 3200)
    await http.until(() => http.open === 0)
    http.handler = (_req, r) => r.writeHead(200, { 'content-type': 'application/octet-stream' }).end(Buffer.alloc(10))
    const next = await rawRequest(gwHttp.url, '/tts/bytes', { headers, body: JSON.stringify(BODY) })
    assert.deepEqual([next.status, next.complete], [200, true], 'the slot was freed')
  })

  test('SSE: an upstream that stalls after an event ends the stream with an upstream_timeout error event', async () => {
    http.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.write(`event: chunk\ndata: ${JSON.stringify({ type: 'chunk', data: FAKE_CHUNK, done: false })}\n\n`)
    }
    const tok = await oneStream(gwHttp, { tts: true })
    const headers = { 'content-type': 'application/json', ...bearer(tok) }
    const res = await rawRequest(gwHttp.url, '/tts/sse', { headers, body: JSON.stringify(BODY) })
    const events = sseEvents(res.body)
    assert.deepEqual(
      events.map((e) => e.type),
      ['chunk', 'error'],
    )
    assert.equal(events[1].error_code, 'upstream_timeout')
    await http.until(() => http.open === 0)
  })
})

describe('upload relays', () => {
  const form = (field: string, extra: Record<string, string>) => {
    const f = new FormData()
    for (const [name, value] of Object.entries(extra)) f.append(name, value)
    f.append(field, new Blob([new Uint8Array(mulawWav(0.5))]), 'a.wav')
    return f
  }
  const post = (path: string, token: string, body: FormData) =>
    fetch(gwHttp.url + path, { method: 'POST', headers: bearer(token), body })

  test('STT: an upstream that answers its headers and then stalls is 504 upstream_timeout, and the slot is freed', async () => {
    http.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.write('{"text":')
    }
    const tok = await oneStream(gwHttp, { stt: true })
    const res = await post('/stt', tok, form('file', { model: 'ink-whisper' }))
    assert.equal(res.status, 504)
    assert.equal(((await res.json()) as { error_code: string }).error_code, 'upstream_timeout')
    await http.until(() => http.open === 0)
    http.handler = (_req, r) => r.writeHead(200, { 'content-type': 'application/json' }).end('{"text":"hi"}')
    assert.equal((await post('/stt', tok, form('file', { model: 'ink-whisper' }))).status, 200, 'the slot was freed')
  })

  test('voice changer: an answer that stalls after its first chunk is cut, and the slot is freed', async () => {
    http.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' })
      res.write(Buffer.alloc(3200, 1))
    }
    const tok = await oneStream(gwHttp, { voice_changer: true })
    const fields = {
      'voice[id]': VOICE,
      'output_format[container]': 'raw',
      'output_format[encoding]': 'pcm_s16le',
      'output_format[sample_rate]': '16000',
    }
    // The body is sent raw so that a cut answer shows as an incomplete body, not a fetch error.
    const encoded = new Request('https://form.invalid/', { method: 'POST', body: form('clip', fields) })
    const res = await rawRequest(gwHttp.url, '/voice-changer/bytes', {
      headers: { ...bearer(tok), 'content-type': encoded.headers.get('content-type')! },
      body: Buffer.from(await encoded.arrayBuffer()),
    })
    assert.equal(res.status, 200)
    assert.equal(res.complete, false, 'the body was cut, not ended')
    await http.until(() => http.open === 0)
    http.handler = (_req, r) => r.writeHead(200, { 'content-type': 'application/octet-stream' }).end(Buffer.alloc(10))
    assert.equal((await post('/voice-changer/bytes', tok, form('clip', fields))).status, 200, 'the slot was freed')
  })
})

describe('TTS socket', () => {
  const open = async () => WsSession.open(wsUrl(gwWs.url), bearer(await oneStream(gwWs, { tts: true })))

  test('a context whose upstream stalls gets upstream_timeout and the socket closes 1011; the upstream socket is closed', async () => {
    ws.onMessage = () => undefined
    const s = await open()
    const conn = ws.connections.at(-1)!
    s.send({ ...ttsBody(VOICE, 'Never answered.'), context_id: 'stalled' })
    assert.equal((await s.end('stalled')).error_code, 'upstream_timeout')
    assert.equal(await s.closed(), 1011)
    await conn.closed
    ws.onMessage = undefined
    // The slot went with it: the token's one stream serves again.
    const again = await open()
    again.send({ ...ttsBody(VOICE, 'Hi.'), context_id: 'next' })
    assert.equal((await again.end('next')).type, 'done')
    again.close()
  })

  test('nothing owed is not timed: a quiet socket, and a context opened with no text yet, outlive the limit', async () => {
    ws.onMessage = undefined
    const s = await open()
    try {
      s.send({ ...ttsBody(VOICE, ''), context_id: 'later', continue: true })
      await sleep(IDLE_MS * 4)
      s.send({ ...ttsBody(VOICE, 'Now.'), context_id: 'later' })
      assert.equal((await s.end('later')).type, 'done')
      await sleep(IDLE_MS * 4)
      s.send({ ...ttsBody(VOICE, 'Again.'), context_id: 'again' })
      assert.equal((await s.end('again')).type, 'done')
    } finally {
      s.close()
    }
  })
})

describe('STT socket', () => {
  const Q = 'model=ink-2&encoding=pcm_s16le&sample_rate=16000'

  test('a finalize the upstream never answers: upstream_timeout, then 1011; streamed audio alone is not timed', async () => {
    ws.onMessage = () => undefined
    const s = openStt(gwWs.url, '/stt/websocket', Q, bearer(await oneStream(gwWs, { stt: true })))
    await s.opened
    s.ws.send(new Uint8Array(3200))
    await sleep(IDLE_MS * 3)
    assert.equal(s.events.length, 0, 'audio with no answer owes nothing')
    s.ws.send('finalize')
    assert.equal((await s.closed).code, 1011)
    assert.equal(s.events.find((e) => e.type === 'error')?.error_code, 'upstream_timeout')
    await ws.until(() => ws.open === 0)
    ws.onMessage = undefined
  })
})

test('--upstream-idle-seconds and VOXGATE_UPSTREAM_IDLE_SECONDS set it; 30 s by default', () => {
  assert.equal(resolveOptions(SERVE_OPTIONS, ['--upstream-idle-seconds', '5'], {}).config.upstreamIdleMs, 5000)
  assert.equal(resolveOptions(SERVE_OPTIONS, [], { VOXGATE_UPSTREAM_IDLE_SECONDS: '7' }).config.upstreamIdleMs, 7000)
  assert.equal(parseConfig({ dataDir: '/tmp/x' }).upstreamIdleMs, 30_000)
  assert.throws(() => parseConfig({ dataDir: '/tmp/x', upstreamIdleMs: 99 }), /upstreamIdleMs/)
})
