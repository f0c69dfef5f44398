import assert from 'node:assert/strict'
import { test } from 'node:test'
import { apiErrorFrom } from '../src/index.ts'
import { SampleAligner, fromBase64 } from '../src/lib/pcm.ts'
import { SseParser } from '../src/lib/sse.ts'
import { decodePcm } from '../src/player.ts'

test('SSE: events split anywhere, CRLF, comments and multi-line data', () => {
  const text = ': hello\r\nevent: chunk\r\ndata: {"a":1}\r\n\r\nevent: done\ndata: {"b":\ndata: 2}\n\ndata: plain\n\n'
  for (const size of [1, 2, 3, 7, text.length]) {
    const p = new SseParser()
    const out = []
    for (let i = 0; i < text.length; i += size) out.push(...p.feed(text.slice(i, i + size)))
    assert.deepEqual(
      out,
      [
        { event: 'chunk', data: '{"a":1}' },
        { event: 'done', data: '{"b":\n2}' },
        { event: 'message', data: 'plain' },
      ],
      `split every ${size}`,
    )
  }
})

test('SampleAligner re-cuts a byte stream on sample boundaries', () => {
  const a = new SampleAligner(4)
  const got = [a.take(Uint8Array.of(1, 2, 3)), a.take(Uint8Array.of(4, 5)), a.take(Uint8Array.of(6, 7, 8, 9, 10))]
  assert.deepEqual(
    got.map((g) => [...g]),
    [[], [1, 2, 3, 4], [5, 6, 7, 8]],
  )
  assert.equal(a.remainder, 2)
})

test('base64 and PCM decoding', () => {
  assert.deepEqual([...fromBase64('AQIDBA==')], [1, 2, 3, 4])
  const f32 = new Uint8Array(new Float32Array([0.5, -0.25]).buffer)
  const odd = new Uint8Array(9)
  odd.set(f32, 1) // not 4-byte aligned
  assert.deepEqual([...decodePcm(odd.subarray(1), 'pcm_f32le')], [0.5, -0.25])
  assert.deepEqual([...decodePcm(new Uint8Array(new Int16Array([16384, -32768]).buffer), 'pcm_s16le')], [0.5, -1])
  const mu = decodePcm(Uint8Array.of(0xff, 0x7f, 0x00, 0x80), 'pcm_mulaw')
  assert.deepEqual(
    [...mu].map((v) => Math.round(v * 32768)),
    [0, -0, -32124, 32124],
  )
  const al = decodePcm(Uint8Array.of(0xd5, 0x55, 0xaa, 0x2a), 'pcm_alaw')
  assert.deepEqual(
    [...al].map((v) => Math.round(v * 32768)),
    [8, -8, 32256, -32256],
  )
})

test('server error codes map to typed, coded errors with retryable', () => {
  const cases: [number, string, string, boolean][] = [
    [401, 'token_expired', 'ERR_TOKEN_EXPIRED', false],
    [401, 'token_revoked', 'ERR_TOKEN_REVOKED', false],
    [401, 'missing_credentials', 'ERR_MISSING_CREDENTIALS', false],
    [403, 'insufficient_scope', 'ERR_INSUFFICIENT_SCOPE', false],
    [403, 'origin_not_allowed', 'ERR_ORIGIN_NOT_ALLOWED', false],
    [403, 'voice_not_allowed', 'ERR_VOICE_NOT_ALLOWED', false],
    [429, 'quota_exceeded', 'ERR_QUOTA_EXCEEDED', false],
    [429, 'concurrency_limited', 'ERR_CONCURRENCY_LIMITED', true],
    [429, 'rate_limited', 'ERR_RATE_LIMITED', true],
    [500, 'internal_error', 'ERR_INTERNAL_ERROR', true],
  ]
  for (const [status, serverCode, code, retryable] of cases) {
    const err = apiErrorFrom(status, { error_code: serverCode, title: 'T', message: 'M', request_id: 'req-1' })
    assert.equal(err.code, code)
    assert.equal(err.retryable, retryable, code)
    assert.equal(err.status, status)
    assert.equal(err.requestId, 'req-1')
    assert.equal(err.isUnauthorized, status === 401)
  }
  assert.equal(apiErrorFrom(502, undefined).code, 'ERR_HTTP')
  assert.equal(apiErrorFrom(502, undefined).retryable, true)
  assert.equal(apiErrorFrom(400, { error_code: 'Not A Code!' }).code, 'ERR_HTTP')
})
