/**
 * The TTS cache on local speech (issue 25, item 3): /tts/bytes and /v1/audio/speech hits are the
 * misses byte for byte; a changed field misses; off by default.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { bearer, mint } from '../helpers/http.ts'
import { rawRequest } from '../helpers/raw-request.ts'
import { firstVoice } from '../helpers/speech.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

let t: TestServer
let token: string
let voice: string

before(async () => {
  t = await startTestServer({ ttsCacheMb: 4 })
  token = await mint(t.url, t.apiKey, { grants: { tts: true }, expires_in: 600 })
  voice = await firstVoice(t.url, t.apiKey)
})
after(async () => {
  await t.close()
})

const post = (server: TestServer, credential: string, route: string, payload: unknown) =>
  rawRequest(server.url, route, {
    headers: { 'content-type': 'application/json', ...bearer(credential) },
    body: JSON.stringify(payload),
  })

const bytesBody = (extra: Record<string, unknown> = {}) => ({
  model_id: 'sonic-3',
  transcript: 'A greeting said many times.',
  voice: { mode: 'id', id: voice },
  output_format: { container: 'wav', encoding: 'pcm_s16le', sample_rate: 22050 },
  ...extra,
})

test('/tts/bytes: the hit is the miss byte for byte; a changed field misses', async () => {
  const miss = await post(t, token, '/tts/bytes', bytesBody())
  assert.equal(miss.status, 200)
  assert.equal(miss.headers['x-voxgate-cache'], undefined)
  const hit = await post(t, token, '/tts/bytes', bytesBody())
  assert.equal(hit.headers['x-voxgate-cache'], 'hit')
  assert.equal(hit.headers['content-type'], miss.headers['content-type'])
  assert.deepEqual(hit.body, miss.body)
  const slower = await post(t, token, '/tts/bytes', bytesBody({ generation_config: { speed: 0.8 } }))
  assert.equal(slower.headers['x-voxgate-cache'], undefined)
  assert.notDeepEqual(slower.body, miss.body)
})

test('/v1/audio/speech: cached in its own shape; another response_format misses', async () => {
  const speech = (format: string) =>
    post(t, token, '/v1/audio/speech', {
      model: 'tts-1',
      voice: 'alloy',
      input: 'Cached speech.',
      response_format: format,
    })
  const miss = await speech('wav')
  assert.equal(miss.status, 200)
  const hit = await speech('wav')
  assert.equal(hit.headers['x-voxgate-cache'], 'hit')
  assert.deepEqual(hit.body, miss.body)
  assert.equal((await speech('pcm')).headers['x-voxgate-cache'], undefined)
})

test('off by default', async () => {
  const plain = await startTestServer()
  try {
    const tk = await mint(plain.url, plain.apiKey, { grants: { tts: true }, expires_in: 60 })
    await post(plain, tk, '/tts/bytes', bytesBody())
    assert.equal((await post(plain, tk, '/tts/bytes', bytesBody())).headers['x-voxgate-cache'], undefined)
  } finally {
    await plain.close()
  }
})
