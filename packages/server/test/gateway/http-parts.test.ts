/**
 * The gateway's small parts, byte-exact: the mapping of upstream failures (shared with the
 * WebSocket relay), the SSE frame splitter, audio sizing and the voices cache.
 */
import { readFileSync } from 'node:fs'
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { VoxgateError } from '@voxgate/protocol'
import {
  errorBody,
  MAX_UPSTREAM_MESSAGE,
  networkFailure,
  upstreamFailure,
  UpstreamRefusal,
} from '../../src/gateway/errors.ts'
import { msPerByte, wavMsPerByte } from '../../src/gateway/audio-length.ts'
import { answerMeter } from '../../src/gateway/measure/answer-meter.ts'
import { UploadDecoder } from '../../src/gateway/measure/decoder.ts'
import { Mp3Frames } from '../../src/gateway/measure/mp3-frames.ts'
import { SseFrames } from '../../src/gateway/sse-frames.ts'
import { Upstream } from '../../src/gateway/upstream.ts'
import { VoiceCache } from '../../src/gateway/voice-cache.ts'

const KEY = 'sk_car_0123456789abcdef'
const upstream = new Upstream({ url: 'https://api.example.com', apiKey: KEY, timeoutMs: 1000, idleMs: 30_000 })

describe('upstreamFailure', () => {
  test('401 and 403 are 502 upstream_unauthorized; 5xx and odd statuses 502 upstream_error', () => {
    for (const [status, code] of [
      [401, 'upstream_unauthorized'],
      [403, 'upstream_unauthorized'],
      [500, 'upstream_error'],
      [503, 'upstream_error'],
      [302, 'upstream_error'],
      [409, 'upstream_error'],
    ] as const) {
      const err = upstreamFailure(upstream, status, JSON.stringify({ error_code: 'x', message: KEY }))
      assert.deepEqual([err.status, err.code, err.message.includes(KEY)], [502, code, false], String(status))
    }
  })

  test('400/404/422/429 keep their status, code and title, the message scrubbed, our request id', () => {
    const err = upstreamFailure(
      upstream,
      422,
      JSON.stringify({
        error_code: 'invalid_voice',
        title: 'Bad voice',
        message: `no ${KEY} here`,
        request_id: 'theirs',
      }),
    )
    assert.ok(err instanceof UpstreamRefusal)
    assert.equal(err.status, 422)
    assert.deepEqual(errorBody(err, 'ours'), {
      error_code: 'invalid_voice',
      title: 'Bad voice',
      message: 'no [redacted] here',
      request_id: 'ours',
    })
    // Code that only knows the catalogue sees the nearest code.
    assert.equal(err.toBody('ours').error_code, 'invalid_request')
  })

  test('a null or odd error_code becomes the nearest catalogue code; plain text is the message', () => {
    assert.equal(
      errorBody(upstreamFailure(upstream, 404, JSON.stringify({ error_code: null, message: 'gone' })), 'r').error_code,
      'not_found',
    )
    assert.equal(
      errorBody(upstreamFailure(upstream, 429, JSON.stringify({ error_code: 'a b<script>' })), 'r').error_code,
      'rate_limited',
    )
    const text = errorBody(upstreamFailure(upstream, 400, 'Bad Request: transcript\nmissing'), 'r')
    assert.deepEqual([text.error_code, text.message], ['invalid_request', 'Bad Request: transcript missing'])
    assert.equal(
      errorBody(upstreamFailure(upstream, 400, ''), 'r').message,
      'The upstream refused the request (HTTP 400).',
    )
  })

  test('messages are scrubbed before they are cut, so no half key survives at the cut', () => {
    const body = JSON.stringify({ error_code: 'x', message: 'a'.repeat(MAX_UPSTREAM_MESSAGE - 5) + KEY })
    const message = upstreamFailure(upstream, 400, body).message
    assert.equal(message.length, MAX_UPSTREAM_MESSAGE)
    assert.ok(!message.includes(KEY.slice(0, 5)))
  })

  test("a 429's retry hints pass through; other statuses carry none", () => {
    const headers = new Headers({
      'retry-after': '3',
      'retry-after-ms': '2500',
      'x-should-retry': 'false',
      'x-other': '1',
    })
    assert.deepEqual(upstreamFailure(upstream, 429, '{}', headers).headers, {
      'retry-after': '3',
      'retry-after-ms': '2500',
      'x-should-retry': 'false',
    })
    assert.deepEqual(upstreamFailure(upstream, 404, '{}', headers).headers, {})
  })
})

describe('networkFailure', () => {
  test('a timeout is 504; anything else 502 upstream_unavailable, naming only the error code', () => {
    assert.equal(networkFailure(new Error('x'), true).code, 'upstream_timeout')
    const refused = networkFailure(
      Object.assign(new Error(`connect ECONNREFUSED 10.0.0.1:443 ${KEY}`), { code: 'ECONNREFUSED' }),
      false,
    )
    assert.deepEqual(
      [refused.status, refused.code, refused.message],
      [502, 'upstream_unavailable', 'The upstream could not be reached (ECONNREFUSED).'],
    )
    assert.equal(
      networkFailure(Object.assign(new Error('x'), { code: 'weird code!' }), false).message,
      'The upstream could not be reached.',
    )
    assert.ok(networkFailure(undefined, false) instanceof VoxgateError)
  })
})

describe('SseFrames', () => {
  test('frames are released whole, across chunk boundaries and split UTF-8, with their type and audio size', () => {
    const frames = new SseFrames()
    const text =
      'event: chunk\ndata: {"type":"chunk","data":"AAAA","note":"é"}\n\nevent: done\r\ndata: {"type":"done"}\r\n\r\n'
    const bytes = Buffer.from(text)
    const out = [
      ...frames.push(bytes.subarray(0, 50)),
      ...frames.push(bytes.subarray(50, 51)),
      ...frames.push(bytes.subarray(51)),
    ]
    assert.deepEqual(
      out.map((f) => [f.type, f.audioBytes]),
      [
        ['chunk', 3],
        ['done', 0],
      ],
    )
    assert.equal(out.map((f) => f.text).join(''), text)
  })

  test('a partial frame is held back, and a frame too large is refused', () => {
    const frames = new SseFrames()
    assert.deepEqual(frames.push(Buffer.from('event: chunk\ndata: {"type":"chu')), [])
    assert.throws(() => frames.push(Buffer.alloc(5 * 1024 * 1024, 97)), RangeError)
  })
})

describe('audio sizing', () => {
  test('raw and wav by encoding and rate; mp3 by bit rate; anything else 0', () => {
    assert.equal(msPerByte({ container: 'raw', encoding: 'pcm_s16le', sample_rate: 16000 }) * 32000, 1000)
    assert.equal(msPerByte({ container: 'wav', encoding: 'pcm_f32le', sample_rate: 24000 }) * 96000, 1000)
    assert.equal(msPerByte({ container: 'raw', encoding: 'pcm_mulaw', sample_rate: 8000 }) * 8000, 1000)
    assert.equal(msPerByte({ container: 'mp3', sample_rate: 44100, bit_rate: 128000 }) * 16000, 1000)
    assert.equal(msPerByte({ container: 'ogg' }), 0)
    assert.equal(msPerByte(undefined), 0)
  })

  test('a WAV header gives its byte rate', () => {
    const header = Buffer.alloc(44)
    header.write('RIFF', 0, 'latin1')
    header.write('WAVEfmt ', 8, 'latin1')
    header.writeUInt32LE(32000, 28)
    assert.equal(wavMsPerByte(header) * 32000, 1000)
    assert.equal(wavMsPerByte(Buffer.from('not a wav file at all, really not one')), 0)
  })
})

describe('VoiceCache', () => {
  test('one upstream request per key within the TTL, shared by concurrent misses; failures not kept', async () => {
    let now = 0
    let calls = 0
    const cache = new VoiceCache({ ttlMs: 1000, maxEntries: 2, now: () => now })
    const fetch = async () => ({ contentType: 'application/json', body: Buffer.from(String(++calls)) })
    const [a, b] = await Promise.all([cache.get('k', fetch), cache.get('k', fetch)])
    assert.deepEqual([a.body.toString(), b.body.toString(), calls], ['1', '1', 1])
    now = 999
    assert.equal((await cache.get('k', fetch)).body.toString(), '1')
    now = 1000
    assert.equal((await cache.get('k', fetch)).body.toString(), '2')
    await assert.rejects(
      cache.get('bad', async () => {
        throw new Error('down')
      }),
    )
    assert.equal((await cache.get('bad', fetch)).body.toString(), '3')
  })

  test('an answer larger than maxEntryBytes is relayed but not kept', async () => {
    let calls = 0
    const cache = new VoiceCache({ maxEntryBytes: 4 })
    const fetch = async () => ({ contentType: 'a', body: Buffer.from(`large${++calls}`) })
    assert.equal((await cache.get('k', fetch)).body.toString(), 'large1')
    assert.equal((await cache.get('k', fetch)).body.toString(), 'large2')
  })

  test('bounded: the oldest entry goes first', async () => {
    let calls = 0
    const cache = new VoiceCache({ maxEntries: 2 })
    const fetch = async () => ({ contentType: 'a', body: Buffer.from(String(++calls)) })
    for (const k of ['a', 'b', 'c']) await cache.get(k, fetch)
    assert.equal((await cache.get('c', fetch)).body.toString(), '3')
    assert.equal((await cache.get('a', fetch)).body.toString(), '4')
  })
})

describe('voice-changer answer meters', () => {
  /** One MPEG audio frame: a 4-byte header, the rest silence (zeros hold no false sync word). */
  const frame = (header: number[], bytes: number) => Buffer.concat([Buffer.from(header), Buffer.alloc(bytes - 4)])
  // MPEG-1 layer III, 128 kbit/s, 44.1 kHz: 417 bytes, 1152 samples. MPEG-2.5 layer III, 8 kbit/s, 8 kHz: 72 bytes, 576 samples.
  const mp1 = frame([0xff, 0xfb, 0x90, 0x00], 417)
  const mp25 = frame([0xff, 0xe3, 0x18, 0x00], 72)
  const id3 = Buffer.concat([Buffer.from('ID3\x04\x00\x00\x00\x00\x01\x00', 'latin1'), Buffer.alloc(128, 0xff)])

  test('an MP3 is the sum of its frames, each at its own rate, across any chunking, a leading ID3 tag skipped', () => {
    const body = Buffer.concat([id3, ...Array(100).fill(mp1), ...Array(10).fill(mp25), Buffer.from('junk')])
    const expected = (100 * 1152 * 1000) / 44100 + (10 * 576 * 1000) / 8000
    for (const size of [1, 3, 7, 1000, body.length]) {
      const frames = new Mp3Frames()
      for (let at = 0; at < body.length; at += size) frames.push(body.subarray(at, at + size))
      assert.ok(Math.abs(frames.ms - expected) < 1e-6, `chunks of ${size}: ${frames.ms} ms, expected ${expected}`)
    }
  })

  test("a WAV answer is sized from its own header (not the request's fields), a raw one from the checked format", () => {
    const wav = (rate: number, data: number) => {
      const h = Buffer.alloc(44)
      h.write('RIFF', 0, 'latin1')
      h.write('WAVEfmt ', 8, 'latin1')
      h.writeUInt32LE(16, 16)
      h.writeUInt16LE(1, 20)
      h.writeUInt16LE(1, 22)
      h.writeUInt32LE(rate, 24)
      h.writeUInt16LE(16, 34)
      h.write('data', 36, 'latin1')
      h.writeUInt32LE(0xffffffff, 40)
      return Buffer.concat([h, Buffer.alloc(data)])
    }
    const asked = { container: 'raw', encoding: 'pcm_f32le', sampleRate: 48000 } as const
    const meter = answerMeter('audio/wav', asked)
    const body = wav(8000, 16000)
    for (let at = 0; at < body.length; at += 5) meter.push(body.subarray(at, at + 5))
    assert.equal(meter.ms, 1000)
    const raw = answerMeter('application/octet-stream', asked)
    raw.push(Buffer.alloc(192_000))
    assert.equal(raw.ms, 1000)
    // A WAV header declaring a rate voxgate does not accept is not measured (the reservation stands).
    const odd = answerMeter('audio/wav; charset=binary', asked)
    odd.push(wav(655_350, 1000))
    assert.equal(odd.ms, undefined)
    assert.equal(answerMeter('audio/ogg', { container: 'wav', encoding: 'pcm_s16le', sampleRate: 16000 }).ms, undefined)
  })
})

describe('UploadDecoder', () => {
  const mp3 = readFileSync(new URL('../stt/fixtures/speech.mp3', import.meta.url))
  const job = (signal = new AbortController().signal, maxSeconds = 1200) => ({
    bytes: mp3,
    raw: undefined,
    maxSeconds,
    signal,
  })

  test('one decode past maxDecodes → 503 server_busy; a slot is free again once a decode ends', async () => {
    const decoder = new UploadDecoder(1)
    const first = decoder.seconds(job())
    await assert.rejects(decoder.seconds(job()), (err: VoxgateError) => err.code === 'server_busy')
    assert.ok(Math.abs((await first) - 3.567) < 0.01)
    assert.ok((await decoder.seconds(job())) > 3)
  })

  test('a decode past maxSeconds → 413 payload_too_large; an aborted one rejects with its reason', async () => {
    const decoder = new UploadDecoder(1)
    await assert.rejects(decoder.seconds(job(undefined, 3)), (err: VoxgateError) => err.code === 'payload_too_large')
    const controller = new AbortController()
    const pending = decoder.seconds(job(controller.signal))
    controller.abort(new VoxgateError('token_revoked', 'revoked'))
    await assert.rejects(pending, (err: VoxgateError) => err.code === 'token_revoked')
    assert.ok((await decoder.seconds(job())) > 3, 'the slot came back')
  })
})
