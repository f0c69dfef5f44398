/**
 * Requests as real clients send them, and what voxgate cannot honour said out loud: a JSON body with
 * no Content-Type (LiveKit's Cartesia plugin), fields refused with exact codes, one terminal event per
 * WebSocket context id, and phoneme_timestamps framed like timestamps.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import https from 'node:https'
import { startSpeechServer, raw, parseSse } from '../helpers/speech.ts'
import { bearer, call, mint } from '../helpers/http.ts'
import { WsSession } from '../helpers/ws-session.ts'
import { wsUrl } from '../helpers/ws.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

let t: TestServer
let voice: string
before(async () => ({ t, voice } = await startSpeechServer()))
after(() => t.close())

/**
 * LiveKit Agents' Cartesia plugin, reproduced byte for byte in what matters: POST /tts/bytes, only
 * `X-API-Key` and `Cartesia-Version: 2025-04-16`, no Content-Type, the body in chunked encoding.
 */
function livekitStyle(
  body: string,
  headers: Record<string, string> = {},
  server = t,
  auth: Record<string, string> = { 'x-api-key': server.apiKey },
): Promise<{ status: number; type: string; bytes: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      `${server.url}/tts/bytes`,
      { method: 'POST', headers: { ...auth, 'cartesia-version': '2025-04-16', ...headers } },
      (res) => {
        const parts: Buffer[] = []
        res.on('data', (d: Buffer) => parts.push(d))
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            type: String(res.headers['content-type']),
            bytes: Buffer.concat(parts),
          }),
        )
      },
    )
    req.on('error', reject)
    // Two writes and no length: Node sends `Transfer-Encoding: chunked`.
    req.write(body.slice(0, 20))
    req.end(body.slice(20))
  })
}

describe('a JSON body without Content-Type', () => {
  const body = () =>
    JSON.stringify({
      model_id: 'sonic-3',
      transcript: 'Hello from LiveKit.',
      voice: { mode: 'id', id: voice },
      output_format: raw('pcm_s16le', 16000),
    })

  test('is read as JSON (chunked, X-API-Key, Cartesia-Version 2025-04-16)', async () => {
    const res = await livekitStyle(body())
    assert.equal(res.status, 200, res.bytes.toString())
    assert.equal(res.bytes.length / 2 / 16000, 3 * 0.06)
  })

  test('that is not JSON is a 400, not a 415', async () => {
    const res = await livekitStyle('transcript=hello&voice=x')
    assert.equal(res.status, 400)
    assert.equal(JSON.parse(res.bytes.toString()).error_code, 'invalid_request')
  })

  test('an explicit non-JSON type stays 415', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml']) {
      const res = await livekitStyle(body(), { 'content-type': type })
      assert.equal(res.status, 415, type)
      assert.equal(JSON.parse(res.bytes.toString()).error_code, 'unsupported_media_type')
    }
  })
})

describe('a body without Content-Type in cookie mode opens no cross-site hole', () => {
  const APP = 'https://app.example'
  let c: TestServer
  let cookie: Record<string, string>
  before(async () => {
    c = await startTestServer({ tokenCookieName: 'vx_token', allowedOrigins: [APP] })
    cookie = { cookie: `vx_token=${await mint(c.url, c.apiKey, { grants: { tts: true }, expires_in: 600 })}` }
  })
  after(() => c.close())
  const body = () => JSON.stringify({ model_id: 'sonic-3', transcript: 'Hi.', voice, output_format: raw() })

  test('the cookie from a foreign Origin, or none, is refused before the body is read', async () => {
    for (const origin of [{ origin: 'https://evil.example' }, {}, { origin: 'null' }] as Record<string, string>[]) {
      const res = await livekitStyle(body(), origin, c, cookie)
      assert.equal(res.status, 403)
      assert.equal(JSON.parse(res.bytes.toString()).error_code, 'origin_not_allowed')
    }
  })

  test('the cookie from the allowed Origin speaks', async () => {
    const res = await livekitStyle(body(), { origin: APP }, c, cookie)
    assert.equal(res.status, 200, res.bytes.toString())
  })
})

describe('what cannot be honoured is refused with its field named', () => {
  const base = () => ({ model_id: 'sonic-3', transcript: 'Hi.', voice, output_format: raw() })
  const cases: [string, Record<string, unknown>, string, RegExp][] = [
    ['language and locale together', { language: 'en', locale: 'en-GB' }, 'invalid_request', /locale/],
    [
      'a pronunciation dictionary',
      { pronunciation_dict_id: 'dict_1' },
      'pronunciation_dict_not_found',
      /pronunciation_dict_id/,
    ],
    [
      'generation_config.volume above 2',
      { generation_config: { volume: 2.5 } },
      'invalid_request',
      /generation_config\.volume/,
    ],
    [
      'generation_config.volume below 0.5',
      { generation_config: { volume: 0.2 } },
      'invalid_request',
      /generation_config\.volume/,
    ],
    [
      'generation_config.speed above 1.5',
      { generation_config: { speed: 2 } },
      'invalid_request',
      /generation_config\.speed/,
    ],
  ]
  for (const route of ['/tts/bytes', '/tts/sse']) {
    for (const [name, extra, code, field] of cases) {
      test(`${route}: ${name}`, async () => {
        const res = await call(t.url, route, { headers: bearer(t.apiKey), body: { ...base(), ...extra } })
        assert.equal(res.status, 400)
        assert.equal(res.json.error_code, code)
        assert.match(res.json.message, field)
      })
    }
  }

  test('save: true on /tts/bytes', async () => {
    const res = await call(t.url, '/tts/bytes', { headers: bearer(t.apiKey), body: { ...base(), save: true } })
    assert.equal(res.status, 400)
    assert.equal(res.json.error_code, 'unsupported_feature')
    assert.match(res.json.message, /save/)
  })

  test('emotion and a locale alone are accepted', async () => {
    const res = await call(t.url, '/tts/bytes', {
      headers: bearer(t.apiKey),
      body: { ...base(), locale: 'en-GB', generation_config: { emotion: 'angry', volume: 0.5 } },
    })
    assert.equal(res.status, 200)
  })

  test('on the WebSocket: the refused context gets one error event', async () => {
    const s = await WsSession.open(wsUrl(t.url), bearer(t.apiKey))
    try {
      s.send({ ...base(), context_id: 'c1', locale: 'en-GB', language: 'en' })
      assert.equal((await s.end('c1')).error_code, 'invalid_request')
    } finally {
      s.close()
    }
  })
})

describe('one terminal event per WebSocket context id', () => {
  test('a context refused for its voice, then sent more, has had its only event', async () => {
    const s = await WsSession.open(wsUrl(t.url), bearer(t.apiKey))
    try {
      const bad = { model_id: 'sonic-3', voice: 'no-such-voice', output_format: raw(), context_id: 'bad' }
      s.send({ ...bad, transcript: 'Hello ', continue: true })
      s.send({ ...bad, transcript: 'there.', continue: true })
      s.send({ ...bad, transcript: '', continue: true, flush: true })
      s.send({ ...bad, transcript: '' })
      s.send({ context_id: 'bad', cancel: true })
      s.send({ context_id: 'bad', transcript: 7 })
      // Messages are handled in order: once this context is done, every message above was handled.
      s.send({ model_id: 'sonic-3', voice, output_format: raw(), context_id: 'good', transcript: 'Fine.' })
      assert.equal((await s.end('good')).type, 'done')
      const events = s.of('bad')
      assert.equal(events.length, 1, JSON.stringify(events))
      assert.equal(events[0].error_code, 'voice_not_found')
    } finally {
      s.close()
    }
  })

  test('after done, the same id starts a new context with its own done', async () => {
    const s = await WsSession.open(wsUrl(t.url), bearer(t.apiKey))
    try {
      const req = { model_id: 'sonic-3', voice, output_format: raw(), context_id: 'again', transcript: 'Once.' }
      s.send(req)
      await s.end('again')
      s.send({ ...req, transcript: 'Twice.' })
      await s.next(
        (e) => e.context_id === 'again' && e.done === true && s.of('again').filter((x) => x.done).length === 2,
      )
      assert.deepEqual(
        s
          .of('again')
          .filter((e) => e.done)
          .map((e) => e.type),
        ['done', 'done'],
      )
    } finally {
      s.close()
    }
  })
})

describe('phoneme_timestamps events', () => {
  test('SSE: framed like timestamps, after the audio they describe, inside it', async () => {
    const res = await call(t.url, '/tts/sse', {
      headers: bearer(t.apiKey),
      body: {
        model_id: 'sonic-3',
        transcript: 'One two. Three.',
        voice,
        output_format: raw(),
        add_timestamps: true,
        add_phoneme_timestamps: true,
        context_id: 'p1',
      },
    })
    const frames = parseSse(res.text)
    const phon = frames.filter((f) => f.event === 'phoneme_timestamps')
    assert.equal(phon.length, 2)
    for (const f of phon) {
      assert.deepEqual(Object.keys(f.data).sort(), ['context_id', 'done', 'phoneme_timestamps', 'status_code', 'type'])
      assert.deepEqual(Object.keys(f.data.phoneme_timestamps), ['phonemes', 'start', 'end'])
    }
    assert.deepEqual(phon.flatMap((f) => f.data.phoneme_timestamps.phonemes).join(''), 'onetwothree')
    const audio =
      frames.filter((f) => f.event === 'chunk').reduce((n, f) => n + Buffer.from(f.data.data, 'base64').length, 0) /
      2 /
      16000
    assert.ok(Math.abs(phon.at(-1)!.data.phoneme_timestamps.end.at(-1) - audio) < 0.002)
  })

  test('WebSocket: carried with context_id and flush_id; none without the flag', async () => {
    const s = await WsSession.open(wsUrl(t.url), bearer(t.apiKey))
    try {
      const req = { model_id: 'sonic-3', voice, output_format: raw(), transcript: 'Hello there.' }
      s.send({ ...req, context_id: 'with', add_phoneme_timestamps: true })
      s.send({ ...req, context_id: 'without' })
      await Promise.all([s.end('with'), s.end('without')])
      const p = s.of('with').filter((e) => e.type === 'phoneme_timestamps')
      assert.equal(p.length, 1)
      assert.equal(p[0].flush_id, 1)
      assert.equal(s.of('without').filter((e) => e.type === 'phoneme_timestamps').length, 0)
    } finally {
      s.close()
    }
  })
})
