/**
 * `--fallback local` for STT uploads (issue 25, item 1): an upstream that fails a `POST /stt` (5xx,
 * unreachable) gets it transcribed by the local recogniser, labelled `X-Voxgate-Fallback: local`,
 * charged the measured audio; OpenAI's `/audio/transcriptions` the same, answered in its
 * `response_format`; the client's own 400 passes through. An answer the upstream cuts after its 200
 * headers falls back too: the transcript is read whole before any of it is sent, and the upload is held.
 */
import { after, afterEach, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { bearer, call, mint } from '../helpers/http.ts'
import { answerError, FakeHttpUpstream } from '../helpers/fake-http-upstream.ts'
import type { TestServer } from '../helpers/server.ts'
import { startFallbackGateway } from '../helpers/fallback-gateway.ts'
import { mulawWav } from './upload-audio.ts'

const UPSTREAM_KEY = 'sk_car_upstream-secret-0123456789abcdef'
let fake: FakeHttpUpstream
let gw: TestServer
let token: string

before(async () => {
  fake = await FakeHttpUpstream.start()
  gw = await startFallbackGateway({
    upstreamUrl: fake.url,
    upstreamApiKey: UPSTREAM_KEY,
    sttUploadLimitBytes: 64 * 1024,
  })
  token = await mint(gw.url, gw.apiKey, { grants: { stt: true }, expires_in: 600, sub: 'stt-fb' })
  fake.reset()
})
afterEach(async () => {
  await fake.until(() => fake.open === 0)
  fake.reset()
})
after(async () => {
  await gw.close()
  await fake.close()
})

async function upload(path = '/stt') {
  const form = new FormData()
  form.append('model', 'ink-whisper')
  form.append('file', new Blob([new Uint8Array(mulawWav(2))]), 'a.wav')
  const res = await fetch(gw.url + path, { method: 'POST', headers: bearer(token), body: form })
  return { status: res.status, headers: res.headers, json: await res.json() }
}

test('an upstream 500: transcribed locally, labelled, the measured audio charged', async () => {
  fake.handler = answerError(500, 'internal', 'boom')
  const res = await upload()
  assert.equal(res.status, 200)
  assert.equal(res.headers.get('x-voxgate-fallback'), 'local')
  assert.equal(res.json.type, 'transcript')
  assert.equal(res.json.duration, 2)
  assert.equal(fake.requests.length, 1)
  let used = 0
  for (let i = 0; i < 50 && used !== 2; i++)
    used = (await call(gw.url, '/access-token/self', { headers: bearer(token) })).json.usage.audio_seconds
  assert.equal(used, 2)
})

test('an unreachable upstream: transcribed locally', async () => {
  fake.handler = (req) => req.socket.destroy()
  const res = await upload()
  assert.equal(res.status, 200)
  assert.equal(res.headers.get('x-voxgate-fallback'), 'local')
})

const triggers: [string, FakeHttpUpstream['handler']][] = [
  ['a 503', answerError(503, 'busy', 'busy')],
  ['a 429', answerError(429, 'rate_limited', 'slow down')],
  ['a 401 to the gateway key', answerError(401, 'unauthorized', 'bad key')],
  ['a 403 to the gateway key', answerError(403, 'forbidden', 'no')],
  ['an upstream that never answers (timeout)', () => undefined],
]
for (const [what, handler] of triggers)
  test(`${what}: transcribed locally, labelled`, async () => {
    fake.handler = handler
    const res = await upload()
    assert.deepEqual([res.status, res.headers.get('x-voxgate-fallback'), res.json.duration], [200, 'local', 2])
  })

/** 200 and the first bytes of a transcript, then the connection cut: nothing of it has reached the client yet. */
const cutAfterHeaders: FakeHttpUpstream['handler'] = (_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' })
  res.write('{"type":"transcript","text":"hel', () => res.socket?.destroy())
}

test('an answer cut after its 200 headers: transcribed locally, labelled, the audio charged once', async () => {
  const fresh = await mint(gw.url, gw.apiKey, { grants: { stt: true }, expires_in: 600, sub: 'stt-cut' })
  fake.handler = cutAfterHeaders
  const form = new FormData()
  form.append('model', 'ink-whisper')
  form.append('file', new Blob([new Uint8Array(mulawWav(2))]), 'a.wav')
  const res = await fetch(`${gw.url}/stt`, { method: 'POST', headers: bearer(fresh), body: form })
  assert.equal(res.status, 200)
  assert.equal(res.headers.get('x-voxgate-fallback'), 'local')
  const body = await res.json()
  assert.deepEqual([body.type, body.duration], ['transcript', 2])
  assert.equal(fake.requests.length, 1, 'the upstream had the upload once; the local recogniser the same bytes')
  let used = 0
  for (let i = 0; i < 50 && used !== 2; i++)
    used = (await call(gw.url, '/access-token/self', { headers: bearer(fresh) })).json.usage.audio_seconds
  assert.equal(used, 2, 'refunded from the relay, charged by the local recogniser: once')
})

test("OpenAI's /v1/audio/transcriptions: an answer cut after its 200 headers is transcribed locally", async () => {
  fake.handler = cutAfterHeaders
  const form = new FormData()
  form.append('model', 'whisper-1')
  form.append('response_format', 'verbose_json')
  form.append('file', new Blob([new Uint8Array(mulawWav(2))]), 'a.wav')
  const res = await fetch(`${gw.url}/v1/audio/transcriptions`, { method: 'POST', headers: bearer(token), body: form })
  assert.equal(res.status, 200)
  assert.equal(res.headers.get('x-voxgate-fallback'), 'local')
  const body = await res.json()
  assert.deepEqual([body.task, body.duration], ['transcribe', 2])
})

test("the client's own 400 passes through", async () => {
  fake.handler = answerError(400, 'bad_request', 'bad file')
  const res = await upload()
  assert.equal(res.status, 400)
  assert.equal(res.json.error_code, 'bad_request')
  assert.equal(res.headers.get('x-voxgate-fallback'), null)
})

for (const path of ['/audio/transcriptions', '/v1/audio/transcriptions'])
  test(`OpenAI's ${path}: an upstream 500 is transcribed locally, in the response_format asked for`, async () => {
    fake.handler = answerError(500, 'internal', 'boom')
    const form = new FormData()
    form.append('model', 'whisper-1')
    form.append('response_format', 'verbose_json')
    form.append('file', new Blob([new Uint8Array(mulawWav(2))]), 'a.wav')
    const res = await fetch(gw.url + path, { method: 'POST', headers: bearer(token), body: form })
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('x-voxgate-fallback'), 'local')
    const body = await res.json()
    assert.deepEqual([body.task, body.language, body.duration, body.text], ['transcribe', 'english', 2, ''])
    assert.deepEqual(body.segments, [])
    assert.equal(fake.requests.length, 1)
  })

test("OpenAI's /audio/transcriptions: the client's own 400 passes through in OpenAI's error shape", async () => {
  fake.handler = answerError(400, 'bad_request', 'bad file')
  const res = await upload('/v1/audio/transcriptions')
  assert.equal(res.status, 400)
  assert.deepEqual([res.json.error.code, res.json.error.type], ['bad_request', 'invalid_request_error'])
  assert.equal(res.headers.get('x-voxgate-fallback'), null)
})
