/**
 * STT routes at the HTTP edge: which grants open them, and the exact refusal of bad requests (status
 * and error_code), before any audio is recognised. Real server, real TLS, real recognisers.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { bearer, call, mint } from '../helpers/http.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { refusedHandshake, silence, wav } from './helpers.ts'

let t: TestServer
let stt: string
let tts: string
let agent: string

before(async () => {
  t = await startTestServer({ sttUploadLimitBytes: 64 * 1024 })
  stt = await mint(t.url, t.apiKey, { grants: { stt: true }, expires_in: 60 })
  tts = await mint(t.url, t.apiKey, { grants: { tts: true }, expires_in: 60 })
  agent = await mint(t.url, t.apiKey, { grants: { agent: true }, expires_in: 60 })
})
after(() => t.close())

const AUDIO_QUERY = 'model=ink-2&encoding=pcm_s16le&sample_rate=16000'

function upload(
  path: string,
  credential: string,
  fields: Record<string, string>,
  file?: Uint8Array,
  query = '',
): Promise<Response> {
  const form = new FormData()
  if (file) form.append('file', new Blob([new Uint8Array(file)]), 'audio')
  for (const [k, v] of Object.entries(fields)) form.append(k, v)
  return fetch(`${t.url}${path}${query}`, { method: 'POST', headers: bearer(credential), body: form })
}

describe('grants', () => {
  for (const path of ['/stt', '/audio/transcriptions']) {
    test(`POST ${path}: a tts-only token gets 403 insufficient_scope`, async () => {
      const res = await upload(path, tts, { model: 'ink-whisper' }, wav(silence(0.2)))
      assert.equal(res.status, 403)
      assert.equal(((await res.json()) as { error_code: string }).error_code, 'insufficient_scope')
      assert.equal(res.headers.get('www-authenticate'), 'Bearer error="insufficient_scope"')
    })
  }

  for (const path of ['/stt/websocket', '/stt/turns/websocket']) {
    test(`${path}: a tts-only token's handshake gets 403 insufficient_scope; an agent-only token's too`, async () => {
      for (const credential of [tts, agent]) {
        const res = await refusedHandshake(t.url, `${path}?${AUDIO_QUERY}`, bearer(credential))
        assert.deepEqual([res.status, res.body.error_code], [403, 'insufficient_scope'])
      }
    })

    test(`GET ${path} without an upgrade: 403 for tts, 400 invalid_request for stt (it speaks WebSocket)`, async () => {
      assert.equal((await call(t.url, path, { headers: bearer(tts) })).json.error_code, 'insufficient_scope')
      const res = await call(t.url, path, { headers: bearer(stt) })
      assert.deepEqual([res.status, res.json.error_code], [400, 'invalid_request'])
    })
  }

  test('an stt-only token gets 403 insufficient_scope on every TTS route', async () => {
    const body = {
      model_id: 'sonic-3',
      transcript: 'Hi.',
      voice: { mode: 'id', id: 'x' },
      output_format: { container: 'raw', encoding: 'pcm_s16le', sample_rate: 16000 },
    }
    for (const path of ['/tts/bytes', '/tts/sse']) {
      const res = await call(t.url, path, { headers: bearer(stt), body })
      assert.deepEqual([path, res.status, res.json.error_code], [path, 403, 'insufficient_scope'])
    }
    const ws = await refusedHandshake(t.url, '/tts/websocket', bearer(stt))
    assert.deepEqual([ws.status, ws.body.error_code], [403, 'insufficient_scope'])
  })

  test('agent opens nothing: /agents/* is 404 not_found, over HTTP and as a WebSocket', async () => {
    const res = await call(t.url, '/agents/stream/agent_1', { headers: bearer(agent) })
    assert.deepEqual([res.status, res.json.error_code], [404, 'not_found'])
    const ws = await refusedHandshake(t.url, '/agents/stream/agent_1', bearer(agent))
    assert.deepEqual([ws.status, ws.body.error_code], [404, 'not_found'])
  })

  test('no credential: 401 missing_credentials on the upload and the socket', async () => {
    const res = await fetch(`${t.url}/stt`, { method: 'POST', body: new FormData() })
    assert.equal(res.status, 401)
    const ws = await refusedHandshake(t.url, `/stt/websocket?${AUDIO_QUERY}`)
    assert.deepEqual([ws.status, ws.body.error_code], [401, 'missing_credentials'])
  })
})

describe('models and requests', () => {
  test('an unknown model: 400 model_not_found on the upload and on both sockets', async () => {
    const res = await upload('/stt', stt, { model: 'whisper-1' }, wav(silence(0.2)))
    assert.deepEqual([res.status, ((await res.json()) as { error_code: string }).error_code], [400, 'model_not_found'])
    for (const path of ['/stt/websocket', '/stt/turns/websocket']) {
      const ws = await refusedHandshake(t.url, `${path}?model=ink-3&encoding=pcm_s16le&sample_rate=16000`, bearer(stt))
      assert.deepEqual([ws.status, ws.body.error_code], [400, 'model_not_found'])
    }
  })

  test('a bad socket query: 400 invalid_request (encoding, rate out of 8000..48000, missing model)', async () => {
    for (const query of [
      'model=ink-2&encoding=mp3&sample_rate=16000',
      'model=ink-2&encoding=pcm_s16le&sample_rate=7999',
      'model=ink-2&encoding=pcm_s16le&sample_rate=48001',
      'encoding=pcm_s16le&sample_rate=16000',
      'model=ink-2&encoding=pcm_s16le&sample_rate=16000&language=fr',
    ]) {
      const ws = await refusedHandshake(t.url, `/stt/websocket?${query}`, bearer(stt))
      assert.deepEqual([query, ws.status, ws.body.error_code], [query, 400, 'invalid_request'])
    }
  })

  test('the dated ink-whisper snapshot is an alias; silence transcribes to an empty text', async () => {
    const res = await upload('/stt', stt, { model: 'ink-whisper-2025-06-04', language: 'en' }, wav(silence(0.5)))
    assert.equal(res.status, 200)
    assert.deepEqual(await res.json(), {
      type: 'transcript',
      text: '',
      request_id: res.headers.get('x-request-id'),
      language: 'en',
      duration: 0.5,
    })
  })

  test('M4A: 400 unsupported_audio_format; unknown bytes without ?encoding=&sample_rate= too', async () => {
    const m4a = Buffer.concat([Buffer.from([0, 0, 0, 0x20]), Buffer.from('ftypM4A '), Buffer.alloc(100)])
    for (const file of [m4a, Buffer.from('this is not audio at all, just text')]) {
      const res = await upload('/audio/transcriptions', stt, { model: 'ink-whisper' }, file)
      assert.deepEqual(
        [res.status, ((await res.json()) as { error_code: string }).error_code],
        [400, 'unsupported_audio_format'],
      )
    }
  })

  test('no file: 400 invalid_request; no model: 400 invalid_request; not multipart: 415', async () => {
    let res = await upload('/stt', stt, { model: 'ink-whisper' })
    assert.deepEqual([res.status, ((await res.json()) as { error_code: string }).error_code], [400, 'invalid_request'])
    res = await upload('/stt', stt, {}, wav(silence(0.2)))
    assert.deepEqual([res.status, ((await res.json()) as { error_code: string }).error_code], [400, 'invalid_request'])
    const json = await call(t.url, '/stt', { headers: bearer(stt), body: { model: 'ink-whisper' } })
    assert.deepEqual([json.status, json.json.error_code], [415, 'unsupported_media_type'])
  })

  test('a file one byte over the upload limit: 413 payload_too_large', async () => {
    const res = await upload('/stt', stt, { model: 'ink-whisper' }, new Uint8Array(64 * 1024 + 1))
    assert.deepEqual(
      [res.status, ((await res.json()) as { error_code: string }).error_code],
      [413, 'payload_too_large'],
    )
  })

  test('garbage behind container magic never answers 5xx', async () => {
    for (const magic of ['RIFF\0\0\0\0WAVE', 'OggS', '\x1aE\xdf\xa3', 'fLaC', 'ID3', '\xff\xfb']) {
      const file = Buffer.concat([Buffer.from(magic, 'latin1'), Buffer.alloc(4000, 0x5a)])
      const res = await upload('/stt', stt, { model: 'ink-whisper' }, file)
      assert.ok(res.status === 200 || res.status === 400, `${JSON.stringify(magic)}: ${res.status} ${await res.text()}`)
    }
  })
})
