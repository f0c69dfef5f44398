/**
 * Limits on listening: the server-wide recogniser cap (503 server_busy), the token's concurrent
 * streams (429), its audio budget (429 up front, an error event mid-stream), revocation (4401), the
 * backlog cap (rate_limited), and malformed commands that leave the socket usable.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { bearer, call, mint } from '../helpers/http.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { openStt, refusedHandshake, sendAudio, silence, wav } from './helpers.ts'

let t: TestServer
before(async () => {
  t = await startTestServer({ sttMaxStreams: 1, sttMaxBacklogSeconds: 1 })
})
after(() => t.close())

const Q = 'model=ink-2&encoding=pcm_s16le&sample_rate=16000'
const FRAME = 3200 // 100 ms of pcm_s16le at 16 kHz

async function upload(credential: string, seconds: number): Promise<Response> {
  const form = new FormData()
  form.append('file', new Blob([new Uint8Array(wav(silence(seconds)))]), 'a.wav')
  form.append('model', 'ink-whisper')
  return fetch(`${t.url}/stt`, { method: 'POST', headers: bearer(credential), body: form })
}

async function closeCleanly(s: ReturnType<typeof openStt>): Promise<void> {
  s.ws.send('close')
  assert.equal((await s.closed).code, 1000)
}

/** Speech-like noise: the recogniser's detector hears speech and searches it (slower than silence). */
function noise(seconds: number): Uint8Array {
  const pcm = new Int16Array(seconds * 16000)
  let x = 12345
  for (let i = 0; i < pcm.length; i++) pcm[i] = ((x = (x * 1103515245 + 12345) & 0x7fffffff) % 16000) - 8000
  return new Uint8Array(pcm.buffer)
}

describe('server and token limits', () => {
  test('past sttMaxStreams recognisers: 503 server_busy with Retry-After, on sockets and uploads; free again after close', async () => {
    const first = openStt(t.url, '/stt/websocket', Q, bearer(t.apiKey))
    await first.opened
    const ws = await refusedHandshake(t.url, `/stt/turns/websocket?${Q}`, bearer(t.apiKey))
    assert.deepEqual([ws.status, ws.body.error_code, ws.headers['retry-after']], [503, 'server_busy', '1'])
    const res = await upload(t.apiKey, 0.2)
    assert.deepEqual(
      [res.status, ((await res.json()) as { error_code: string }).error_code, res.headers.get('retry-after')],
      [503, 'server_busy', '1'],
    )
    await closeCleanly(first)
    assert.equal((await upload(t.apiKey, 0.2)).status, 200)
  })

  test('limits.concurrent_streams counts STT sockets: the second gets 429 concurrency_limited', async () => {
    const token = await mint(t.url, t.apiKey, {
      grants: { stt: true },
      expires_in: 60,
      limits: { concurrent_streams: 1 },
    })
    const first = openStt(t.url, '/stt/websocket', Q, bearer(token))
    await first.opened
    const second = await refusedHandshake(t.url, `/stt/websocket?${Q}`, bearer(token))
    assert.deepEqual([second.status, second.body.error_code], [429, 'concurrency_limited'])
    const self = await call(t.url, '/access-token/self', { headers: bearer(token) })
    assert.equal(self.json.usage.open_streams, 1)
    await closeCleanly(first)
  })

  test('limits.audio_seconds: an upload longer than what remains is refused whole; a stream that crosses it gets quota_exceeded', async () => {
    const token = await mint(t.url, t.apiKey, { grants: { stt: true }, expires_in: 60, limits: { audio_seconds: 2 } })
    const refused = await upload(token, 3)
    assert.deepEqual(
      [
        refused.status,
        ((await refused.json()) as { error_code: string }).error_code,
        refused.headers.get('x-should-retry'),
      ],
      [429, 'quota_exceeded', 'false'],
    )
    assert.equal((await upload(token, 1.5)).status, 200)
    let self = await call(t.url, '/access-token/self', { headers: bearer(token) })
    assert.equal(self.json.usage.audio_seconds, 1.5)
    assert.deepEqual(self.json.limits, { audio_seconds: 2 })

    const s = openStt(t.url, '/stt/websocket', Q, bearer(token))
    await s.opened
    sendAudio(s.ws, new Uint8Array(16000 * 2), FRAME) // 1 s: crosses the budget at 0.5 s
    const err = await s.next('error')
    assert.deepEqual([err.error_code, err.status_code, err.title], ['quota_exceeded', 429, 'Quota exceeded'])
    assert.equal((await s.closed).code, 1008)
    self = await call(t.url, '/access-token/self', { headers: bearer(token) })
    assert.ok(
      self.json.usage.audio_seconds <= 2 && self.json.usage.audio_seconds >= 1.9,
      String(self.json.usage.audio_seconds),
    )
    const spent = await refusedHandshake(t.url, `/stt/websocket?${Q}`, bearer(token))
    assert.deepEqual([spent.status, spent.body.error_code], [429, 'quota_exceeded'])
  })

  test('limits.audio_seconds must be a positive integer when minting', async () => {
    for (const audio_seconds of [0, 1.5, -1]) {
      const res = await call(t.url, '/access-token', {
        headers: bearer(t.apiKey),
        body: { grants: { stt: true }, limits: { audio_seconds } },
      })
      assert.deepEqual([audio_seconds, res.status, res.json.error_code], [audio_seconds, 400, 'invalid_request'])
    }
  })

  test('revoking the token ends its STT socket with a token_revoked event and close 4401', async () => {
    const token = await mint(t.url, t.apiKey, { grants: { stt: true }, expires_in: 60 })
    const s = openStt(t.url, '/stt/websocket', Q, bearer(token))
    await s.opened
    s.ws.send(new Uint8Array(FRAME))
    const res = await call(t.url, '/access-token/revoke', { headers: bearer(t.apiKey), body: { token } })
    assert.equal(res.status, 200)
    const err = await s.next('error')
    assert.equal(err.error_code, 'token_revoked')
    assert.equal((await s.closed).code, 4401)
  })

  test('audio far faster than it can be recognised: rate_limited, close 1008; the recogniser is free again', async () => {
    const s = openStt(t.url, '/stt/websocket', Q, bearer(t.apiKey))
    await s.opened
    sendAudio(s.ws, noise(60), FRAME)
    const err = await s.next('error')
    assert.equal(err.error_code, 'rate_limited')
    assert.equal((await s.closed).code, 1008)
    assert.equal((await upload(t.apiKey, 0.2)).status, 200)
  })
})

describe('malformed input leaves the socket usable', () => {
  test('/stt/websocket: an unknown text command is an invalid_request event; odd-sized and empty frames are fine', async () => {
    const s = openStt(t.url, '/stt/websocket', 'model=ink-2&encoding=pcm_f32le&sample_rate=44100', bearer(t.apiKey))
    await s.opened
    s.ws.send('hello')
    s.ws.send('{"type":"finalize"}')
    s.ws.send(new Uint8Array(0))
    s.ws.send(new Uint8Array(7))
    s.ws.send(new Uint8Array(4409))
    s.ws.send('finalize')
    await s.next('flush_done')
    const errors = s.events.filter((e) => e.type === 'error')
    assert.deepEqual(
      errors.map((e) => [e.error_code, e.status_code]),
      [
        ['invalid_request', 400],
        ['invalid_request', 400],
      ],
    )
    await closeCleanly(s)
    assert.equal(s.events.at(-1).type, 'done')
  })

  test('/stt/turns/websocket: bad JSON and out-of-range config are error events; a good config and close work', async () => {
    const s = openStt(t.url, '/stt/turns/websocket', `${Q}&turn_end_timeout_ms=1000`, bearer(t.apiKey))
    await s.opened
    assert.deepEqual(await s.next('connected'), { type: 'connected', request_id: s.events[0].request_id })
    s.ws.send('{not json')
    s.ws.send(JSON.stringify({ type: 'config', turn: { start_threshold: 5 } }))
    s.ws.send(JSON.stringify({ type: 'finalize' }))
    s.ws.send(JSON.stringify({ type: 'config', turn: { start_threshold: 0.7, end_timeout_ms: 2000 } }))
    s.ws.send(JSON.stringify({ type: 'close' }))
    assert.equal((await s.closed).code, 1000)
    assert.deepEqual(
      s.events.filter((e) => e.type === 'error').map((e) => e.error_code),
      ['invalid_request', 'invalid_request', 'invalid_request'],
    )
  })

  test('a turns query out of range is refused before the upgrade', async () => {
    const res = await refusedHandshake(t.url, `/stt/turns/websocket?${Q}&turn_end_threshold=0.9`, bearer(t.apiKey))
    assert.deepEqual([res.status, res.body.error_code], [400, 'invalid_request'])
  })
})
