/**
 * The gateway's small parts, byte-exact: the mapping of upstream failures (shared with the
 * WebSocket relay), the SSE frame splitter, audio sizing and the voices cache.
 */
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
import { MultipartFieldWatcher } from '../../src/gateway/multipart-fields.ts'
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

describe('MultipartFieldWatcher', () => {
  test('finds the output_format fields of a real multipart body, after a large file, across any chunking', async () => {
    const form = new FormData()
    form.append('clip', new Blob([new Uint8Array(100_000).fill(7)]), 'clip.wav')
    form.append('output_format[container]', 'raw')
    form.append('output_format[encoding]', 'pcm_s16le')
    form.append('output_format[sample_rate]', '16000')
    form.append('voice[id]', 'v')
    const body = Buffer.from(await new Response(form).arrayBuffer())
    for (const size of [1, 7, 1000, body.length]) {
      const watcher = new MultipartFieldWatcher([
        'output_format[container]',
        'output_format[encoding]',
        'output_format[sample_rate]',
      ])
      for (let at = 0; at < body.length; at += size) watcher.push(body.subarray(at, at + size))
      assert.deepEqual(
        watcher.found,
        {
          'output_format[container]': 'raw',
          'output_format[encoding]': 'pcm_s16le',
          'output_format[sample_rate]': '16000',
        },
        `chunks of ${size}`,
      )
    }
  })
})
