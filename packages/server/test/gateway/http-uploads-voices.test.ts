/**
 * Gateway mode's relayed uploads (voice changer, STT) and voices against a recording fake upstream:
 * relayed as checked, sized and charged, refused before relaying when they must be, cached (voices).
 * How uploads are metered: http-upload-metering.test.ts.
 * The scene is fake-gateway.ts, shared with http-fake-upstream.test.ts and http-flow-control.test.ts.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import https from 'node:https'
import { bearer, call, mint } from '../helpers/http.ts'
import { answerError } from '../helpers/fake-http-upstream.ts'
import { sseEvents } from '../helpers/raw-request.ts'
import { eventually } from '../helpers/controlled-speech.ts'
import {
  answers,
  audio,
  fake,
  gw,
  readAround,
  token,
  tts,
  UPSTREAM_KEY,
  useFakeGateway,
  VERSION,
} from './fake-gateway.ts'
import { mulawWav } from './upload-audio.ts'

useFakeGateway()

describe('gateway HTTP relay: uploads (voice changer, STT)', () => {
  const wav = mulawWav(1)
  const form = (bytes: Buffer = wav) => {
    const f = new FormData()
    f.append('voice[id]', 'upstream-voice')
    f.append('output_format[container]', 'raw')
    f.append('output_format[encoding]', 'pcm_s16le')
    f.append('output_format[sample_rate]', '16000')
    f.append('clip', new Blob([new Uint8Array(bytes)], { type: 'audio/wav' }), 'clip.wav')
    return f
  }
  const upload = async (
    path: string,
    credential: string,
    body: FormData = form(),
    headers: Record<string, string> = {},
  ) => {
    const res = await fetch(gw.url + path, { method: 'POST', headers: { ...bearer(credential), ...headers }, body })
    const bytes = Buffer.from(await res.arrayBuffer())
    answers.push(bytes.toString('latin1'))
    return { status: res.status, headers: res.headers, bytes, json: () => JSON.parse(bytes.toString()) }
  }
  const echo = (contentType: string) => (_req: unknown, res: import('node:http').ServerResponse, body: Buffer) => {
    res.writeHead(200, { 'content-type': contentType })
    res.end(body)
  }

  for (const transport of ['bytes', 'sse'] as const) {
    test(`/voice-changer/${transport}: the checked form reaches the upstream, serialized anew, with the upstream key only`, async () => {
      const changer = await mint(gw.url, gw.apiKey, { grants: { voice_changer: true }, expires_in: 60 })
      const frames = `event: chunk\ndata: ${JSON.stringify({ type: 'chunk', data: audio.toString('base64'), done: false, status_code: 206 })}\n\nevent: done\ndata: {"type":"done","done":true,"status_code":206}\n\n`
      fake.handler =
        transport === 'bytes'
          ? echo('audio/wav')
          : (_req, res) => res.writeHead(200, { 'content-type': 'text/event-stream' }).end(frames)
      const res = await upload(`/voice-changer/${transport}`, changer, form())
      assert.equal(res.status, 200)
      const received = fake.requests[0]!
      assert.equal(received.url, `/voice-changer/${transport}`)
      assert.match(received.headers['content-type']!, /^multipart\/form-data; boundary=/)
      assert.equal(received.headers['x-api-key'], UPSTREAM_KEY)
      assert.equal(received.headers.authorization, undefined)
      const relayed = await new Response(new Uint8Array(received.body), {
        headers: { 'content-type': received.headers['content-type']! },
      }).formData()
      const clip = relayed.get('clip') as File
      assert.deepEqual(
        [...relayed].map(([name, value]) => [name, typeof value === 'string' ? value : value.name]),
        [...form()].map(([name, value]) => [name, typeof value === 'string' ? value : value.name]),
      )
      assert.deepEqual(Buffer.from(await clip.arrayBuffer()), wav)
      // What the upstream answered is what the client got, byte for byte.
      assert.deepEqual(res.bytes, transport === 'bytes' ? received.body : Buffer.from(frames))
    })
  }

  test("raw voice-changer audio is sized at the checked output_format: the token's audio seconds and the ledger", async () => {
    const changer = await mint(gw.url, gw.apiKey, {
      grants: { voice_changer: true },
      sub: 'vc-user',
      limits: { audio_seconds: 60 },
      expires_in: 60,
    })
    // Two seconds of 16 kHz pcm_s16le.
    fake.handler = (_req, res) =>
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(Buffer.alloc(64_000))
    const f = new FormData()
    f.append('clip', new Blob([new Uint8Array(wav)]), 'clip.wav')
    f.append('output_format[container]', 'raw')
    f.append('output_format[encoding]', 'pcm_s16le')
    f.append('output_format[sample_rate]', '16000')
    assert.equal((await upload('/voice-changer/bytes', changer, f)).status, 200)
    await eventually(
      async () =>
        (await call(gw.url, '/access-token/self', { headers: bearer(changer) })).json.usage.audio_seconds === 2,
      'audio charged',
    )
    const usage = await call(gw.url, '/usage?sub=vc-user&group_by=sub', { headers: bearer(gw.apiKey) })
    assert.deepEqual([usage.json.totals.audio_seconds_voice_changed, usage.json.totals.streams], [2, 1])
  })

  test('/voice-changer/bytes without the voice_changer grant → 403, never relayed', async () => {
    const ttsOnly = await mint(gw.url, gw.apiKey, { grants: { tts: true }, expires_in: 60 })
    const res = await upload('/voice-changer/bytes', ttsOnly)
    assert.equal(res.status, 403)
    assert.equal(res.json().error_code, 'insufficient_scope')
    assert.equal(fake.requests.length, 0)
  })

  test('an upload past the size limit → 413 payload_too_large, never relayed', async () => {
    const changer = await mint(gw.url, gw.apiKey, { grants: { voice_changer: true }, expires_in: 60 })
    const res = await upload('/voice-changer/bytes', changer, form(Buffer.alloc(200 * 1024)))
    assert.equal(res.status, 413)
    assert.equal(res.json().error_code, 'payload_too_large')
    assert.equal(fake.requests.length, 0)
  })

  test('a chunked upload (no length declared) cut at the size limit → 413, the upstream request dropped', async () => {
    const changer = await mint(gw.url, gw.apiKey, { grants: { voice_changer: true }, expires_in: 60 })
    const res = await new Promise<{ status: number; json: any }>((resolve) => {
      const req = https.request(
        new URL('/voice-changer/bytes', gw.url),
        {
          method: 'POST',
          agent: false,
          headers: {
            ...bearer(changer),
            'content-type': 'multipart/form-data; boundary=x',
            'transfer-encoding': 'chunked',
          },
        },
        (r) => {
          const chunks: Buffer[] = []
          r.on('data', (c: Buffer) => chunks.push(c)).once('end', () =>
            resolve({ status: r.statusCode!, json: JSON.parse(Buffer.concat(chunks).toString()) }),
          )
        },
      )
      req.on('error', () => undefined)
      // Written piece by piece until the gateway answers: it must not wait for the end of the body.
      const piece = Buffer.alloc(16 * 1024, 1)
      const pump = () => {
        while (!req.destroyed && req.write(piece));
        if (!req.destroyed) req.once('drain', pump)
      }
      pump()
    })
    assert.equal(res.status, 413)
    assert.equal(res.json.error_code, 'payload_too_large')
    assert.equal(fake.requests.length, 0)
  })

  test('a second upload past limits.concurrent_streams → 429 while the first is relayed', async () => {
    const one = await mint(gw.url, gw.apiKey, {
      grants: { voice_changer: true },
      limits: { concurrent_streams: 1 },
      expires_in: 60,
    })
    let finish: (() => void) | undefined
    fake.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'audio/wav' })
      res.write(wav)
      finish = () => res.end()
    }
    const first = upload('/voice-changer/bytes', one)
    await fake.until(() => finish !== undefined)
    const second = await upload('/voice-changer/bytes', one)
    assert.equal(second.status, 429)
    assert.equal(second.json().error_code, 'concurrency_limited')
    assert.equal(fake.requests.length, 1)
    finish!()
    assert.equal((await first).status, 200)
  })

  test('revoking the token ends a relayed voice-changer SSE stream with token_revoked and drops the upstream request', async () => {
    const changer = await mint(gw.url, gw.apiKey, { grants: { voice_changer: true }, expires_in: 60 })
    fake.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.write(
        `event: chunk\ndata: ${JSON.stringify({ type: 'chunk', data: audio.toString('base64'), done: false, status_code: 206 })}\n\n`,
      )
    }
    const res = await fetch(`${gw.url}/voice-changer/sse`, { method: 'POST', headers: bearer(changer), body: form() })
    const text = await readAround(res, () =>
      call(gw.url, '/access-token/revoke', { headers: bearer(gw.apiKey), body: { token: changer } }),
    )
    assert.deepEqual(
      sseEvents(Buffer.from(text)).map((e) => [e.type, e.error_code]),
      [
        ['chunk', undefined],
        ['error', 'token_revoked'],
      ],
    )
  })

  for (const path of ['/stt', '/audio/transcriptions']) {
    test(`${path}: the upload is relayed, the transcript returned, its measured duration charged to the token`, async () => {
      const listener = await mint(gw.url, gw.apiKey, {
        grants: { stt: true },
        limits: { audio_seconds: 60 },
        expires_in: 60,
      })
      const transcript = {
        type: 'transcript',
        text: 'hello there',
        duration: 2.5,
        language: 'en',
        request_id: 'theirs',
      }
      fake.handler = (_req, res) =>
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(transcript))
      const f = new FormData()
      f.append('model', 'ink-whisper')
      // Headerless PCM described in the query: 16,000 bytes of pcm_s16le at 16 kHz are 0.5 s.
      f.append('file', new Blob([new Uint8Array(16000).fill(3)]), 'a.pcm')
      const res = await upload(`${path}?encoding=pcm_s16le&sample_rate=16000`, listener, f)
      assert.equal(res.status, 200)
      assert.deepEqual(res.json(), transcript)
      assert.equal(fake.requests[0]!.url, `${path}?encoding=pcm_s16le&sample_rate=16000`)
      // What voxgate measured, not the upstream's `duration`.
      const self = await call(gw.url, '/access-token/self', { headers: bearer(listener) })
      assert.equal(self.json.usage.audio_seconds, 0.5)
    })
  }

  test('/stt with an upstream failure answers as TTS does (422 passed through)', async () => {
    const listener = await mint(gw.url, gw.apiKey, { grants: { stt: true }, expires_in: 60 })
    fake.handler = answerError(422, 'unprocessable_audio', `cannot decode (key ${UPSTREAM_KEY})`)
    const f = new FormData()
    f.append('file', new Blob([new Uint8Array(wav)]), 'a.wav')
    const res = await upload('/stt', listener, f)
    assert.equal(res.status, 422)
    assert.equal(res.json().error_code, 'unprocessable_audio')
    assert.equal(res.json().message, 'cannot decode (key [redacted])')
  })
})

describe('gateway HTTP relay: voices', () => {
  test('GET /voices and /voices/:id come from the upstream, query passed through, cached by path, query and version', async () => {
    let n = 0
    fake.handler = (req, res) =>
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ data: [{ id: `v${++n}`, url: req.url }], has_more: false }))
    const list = async (path: string, version = VERSION) =>
      call(gw.url, path, { headers: { ...bearer(token), 'cartesia-version': version } })
    const first = await list('/voices?limit=2&language=en')
    assert.equal(first.status, 200)
    assert.deepEqual(first.json, { data: [{ id: 'v1', url: '/voices?limit=2&language=en' }], has_more: false })
    assert.deepEqual((await list('/voices?limit=2&language=en')).json, first.json)
    assert.equal(fake.requests.length, 1)
    assert.equal((await list('/voices?limit=3')).json.data[0].id, 'v2')
    assert.equal((await list('/voices?limit=2&language=en', '2024-06-10')).json.data[0].id, 'v3')
    const one = await list('/voices/a0e99841-438c-4a64-b679-ae501e7d6091')
    assert.equal(one.json.data[0].url, '/voices/a0e99841-438c-4a64-b679-ae501e7d6091')
    assert.equal(fake.requests.length, 4)
  })

  /** A GET with its path exactly as given (fetch and `new URL` would resolve the dot segments first). */
  const literalGet = (path: string, headers: Record<string, string> = {}) =>
    new Promise<{ status: number; json: any }>((resolve, reject) => {
      const { hostname, port } = new URL(gw.url)
      const req = https.request(
        { hostname, port, path, method: 'GET', headers: { ...bearer(token), ...headers } },
        (res) => {
          let text = ''
          res.on('data', (c: Buffer) => (text += c))
          res.on('end', () => {
            answers.push(text)
            resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) })
          })
        },
      )
      req.on('error', reject)
      req.end()
    })

  test('GET /voices/:id with anything but a voice id (a dot segment, encoded or not, a space, a slash) → 404 voice_not_found, never relayed', async () => {
    for (const path of [
      '/voices/..',
      '/voices/%2e%2e',
      '/voices/.%2e',
      '/voices/%2E.',
      '/voices/.',
      '/voices/a%20b',
      '/voices/a%2fb',
      `/voices/${'a'.repeat(129)}`,
    ]) {
      const res = await literalGet(path)
      assert.deepEqual([res.status, res.json.error_code], [404, 'voice_not_found'], path)
    }
    assert.equal(fake.requests.length, 0)
    assert.equal((await literalGet(`/voices/${'a'.repeat(128)}`)).status, 200, 'one short of the limit is relayed')
    assert.equal(fake.requests[0]!.url, `/voices/${'a'.repeat(128)}`)
  })

  test('Cartesia-Version must be a date before it reaches the upstream or a cache key: 400 invalid_request otherwise, header or query', async () => {
    for (const [path, headers] of [
      ['/voices', { 'cartesia-version': '2025-4-16' }],
      ['/voices', { 'cartesia-version': 'latest' }],
      ['/voices', { 'cartesia-version': '2025-04-16, 2024-06-10' }],
      ['/voices?cartesia_version=../../x', {}],
      ['/voices/upstream-voice?cartesia_version=2025-04-16&cartesia_version=x', {}],
    ] as const) {
      const res = await literalGet(path, headers)
      assert.deepEqual([res.status, res.json.error_code], [400, 'invalid_request'], path)
    }
    assert.equal(fake.requests.length, 0)
    const res = await tts('/tts/bytes', { 'cartesia-version': '2025-04-16T00:00' })
    assert.deepEqual([res.status, res.json?.error_code], [400, 'invalid_request'])
    assert.equal(fake.requests.length, 0)
    assert.equal((await literalGet('/voices?cartesia_version=2025-04-16', { 'cartesia-version': VERSION })).status, 200)
  })

  test('GET /voices/:id passes an upstream 404 through; it is not cached', async () => {
    fake.handler = answerError(404, 'voice_not_found', 'No such voice.')
    for (let i = 0; i < 2; i++) {
      const res = await call(gw.url, '/voices/missing', { headers: bearer(token) })
      assert.equal(res.status, 404)
      assert.equal(res.json.error_code, 'voice_not_found')
    }
    assert.equal(fake.requests.length, 2)
  })

  test('GET /voices without the voices grant → 403, never relayed', async () => {
    const ttsOnly = await mint(gw.url, gw.apiKey, { grants: { tts: true }, expires_in: 60 })
    const res = await call(gw.url, '/voices', { headers: bearer(ttsOnly) })
    assert.equal(res.status, 403)
    assert.equal(fake.requests.length, 0)
  })
})
