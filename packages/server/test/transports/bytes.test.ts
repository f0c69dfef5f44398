import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { DETERMINISTIC_RATE, DETERMINISTIC_WORD_MS } from '../helpers/deterministic-engine.ts'
import type { TestServer } from '../helpers/server.ts'
import { mp3SyncAt, parseWavHeader } from '../helpers/audio.ts'
import { startSpeechServer, raw, ttsBytes } from '../helpers/speech.ts'

let t: TestServer
let voice: string
before(async () => ({ t, voice } = await startSpeechServer()))
after(() => t.close())

const TEXT = 'One two three four. Five six.'
const WORDS = 6
/** Samples the deterministic engine makes for TEXT at `rate`: 60 ms per word, resampled exactly. */
const samplesAt = (rate: number) =>
  WORDS * Math.round((DETERMINISTIC_RATE * DETERMINISTIC_WORD_MS) / 1000) * (rate / DETERMINISTIC_RATE)
const req = (output_format: unknown, extra: object = {}) => ({
  model_id: 'sonic-3',
  transcript: TEXT,
  voice,
  output_format,
  ...extra,
})

describe('POST /tts/bytes', () => {
  test('raw pcm_s16le streams with chunked encoding and exact length', async () => {
    const res = await ttsBytes(t.url, t.apiKey, req(raw('pcm_s16le', 16000)))
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('transfer-encoding'), 'chunked')
    assert.equal(res.headers.get('content-length'), null)
    assert.equal(res.headers.get('content-type'), 'application/octet-stream')
    assert.equal(res.bytes.length, samplesAt(16000) * 2)
  })

  for (const [encoding, size] of [
    ['pcm_f32le', 4],
    ['pcm_s16le', 2],
    ['pcm_mulaw', 1],
    ['pcm_alaw', 1],
  ] as const) {
    test(`raw ${encoding}: ${size} byte(s) per sample`, async () => {
      const res = await ttsBytes(t.url, t.apiKey, req(raw(encoding, 16000)))
      assert.equal(res.bytes.length, samplesAt(16000) * size)
    })
  }

  for (const rate of [8000, 22050, 24000, 44100, 48000]) {
    test(`resampled to ${rate} Hz: length within 2 samples of exact`, async () => {
      const res = await ttsBytes(t.url, t.apiKey, req(raw('pcm_s16le', rate)))
      assert.ok(Math.abs(res.bytes.length / 2 - samplesAt(rate)) <= 2, `${res.bytes.length / 2} vs ${samplesAt(rate)}`)
    })
  }

  for (const [encoding, format, bits] of [
    ['pcm_s16le', 1, 16],
    ['pcm_f32le', 3, 32],
    ['pcm_mulaw', 7, 8],
    ['pcm_alaw', 6, 8],
  ] as const) {
    test(`wav ${encoding}: header says format ${format}, ${bits} bits, the rate asked`, async () => {
      const res = await ttsBytes(t.url, t.apiKey, req({ container: 'wav', encoding, sample_rate: 24000 }))
      assert.equal(res.headers.get('content-type'), 'audio/wav')
      const wav = parseWavHeader(res.bytes)
      assert.deepEqual([wav.format, wav.channels, wav.sampleRate, wav.bitsPerSample], [format, 1, 24000, bits])
      assert.ok(Math.abs((res.bytes.length - wav.dataOffset) / (bits / 8) - samplesAt(24000)) <= 2)
    })
  }

  test('mp3 starts with a frame sync and is audio/mpeg', async () => {
    const res = await ttsBytes(t.url, t.apiKey, req({ container: 'mp3', sample_rate: 44100, bit_rate: 64000 }))
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('content-type'), 'audio/mpeg')
    assert.equal(mp3SyncAt(res.bytes), 0)
  })

  test('every voice shape is accepted: id string, {id}, {mode:"id", id}', async () => {
    for (const v of [voice, { id: voice }, { mode: 'id', id: voice }]) {
      const res = await ttsBytes(t.url, t.apiKey, { ...req(raw()), voice: v })
      assert.equal(res.bytes.length, samplesAt(16000) * 2)
    }
  })

  test('Cartesia model ids are aliases; an unknown model is 400 model_not_found', async () => {
    for (const model_id of [
      'sonic-3',
      'sonic-2',
      'sonic-turbo',
      'sonic-latest',
      'sonic-3-2025-10-27',
      'sonic-english',
    ]) {
      assert.equal((await ttsBytes(t.url, t.apiKey, { ...req(raw()), model_id })).status, 200, model_id)
    }
    const res = await ttsBytes(t.url, t.apiKey, { ...req(raw()), model_id: 'gpt-voice' })
    assert.equal(res.status, 400)
    assert.equal(JSON.parse(Buffer.from(res.bytes).toString()).error_code, 'model_not_found')
  })

  test('an empty transcript is 200 with no audio', async () => {
    const res = await ttsBytes(t.url, t.apiKey, { ...req(raw()), transcript: '' })
    assert.equal(res.status, 200)
    assert.equal(res.bytes.length, 0)
  })

  const bad: [string, object, number, string][] = [
    ['unknown voice', { voice: 'no-such-voice' }, 404, 'voice_not_found'],
    ['embedding voice', { voice: { mode: 'embedding', embedding: [0.1] } }, 400, 'invalid_request'],
    ['sample rate 7999', { output_format: raw('pcm_s16le', 7999) }, 400, 'invalid_request'],
    ['sample rate 48001', { output_format: raw('pcm_s16le', 48001) }, 400, 'invalid_request'],
    ['unknown encoding', { output_format: raw('pcm_u8', 16000) }, 400, 'invalid_request'],
    [
      'mp3 bit rate 1000',
      { output_format: { container: 'mp3', sample_rate: 44100, bit_rate: 1000 } },
      400,
      'invalid_request',
    ],
    ['transcript 10001 chars', { transcript: 'a'.repeat(10_001) }, 400, 'transcript_too_long'],
    ['no transcript', { transcript: undefined }, 400, 'invalid_request'],
  ]
  for (const [name, patch, status, code] of bad) {
    test(`${name} → ${status} ${code}`, async () => {
      const res = await ttsBytes(t.url, t.apiKey, { ...req(raw()), ...patch })
      assert.equal(res.status, status)
      assert.equal(JSON.parse(Buffer.from(res.bytes).toString()).error_code, code)
    })
  }

  test('a transcript of exactly 10000 chars is accepted', async () => {
    const res = await ttsBytes(t.url, t.apiKey, { ...req(raw('pcm_s16le', 8000)), transcript: 'ab. '.repeat(2500) })
    assert.equal(res.status, 200)
    assert.equal(res.bytes.length, 2500 * 480 * 2)
  })
})
