import assert from 'node:assert/strict'
import { test } from 'node:test'
import { decodeAlaw } from '@echogarden/wave-codec/dist/codecs/Alaw.js'
import { decodeMulaw } from '@echogarden/wave-codec/dist/codecs/Mulaw.js'
import { encodeSamples, openEncoder } from '../../src/tts/encode.ts'
import { mp3RateFor } from '../../src/tts/mp3.ts'
import { mp3Frames, parseWavHeader } from './audio.ts'

const tone = (n: number, rate: number) =>
  Int16Array.from({ length: n }, (_, i) => Math.round(10000 * Math.sin((2 * Math.PI * 440 * i) / rate)))

test('raw encodings have 4, 2, 1 and 1 bytes per sample and decode back', () => {
  const pcm = tone(1000, 16000)
  assert.equal(encodeSamples(pcm, 'pcm_f32le').length, 4000)
  assert.equal(encodeSamples(pcm, 'pcm_s16le').length, 2000)
  assert.equal(encodeSamples(pcm, 'pcm_mulaw').length, 1000)
  assert.equal(encodeSamples(pcm, 'pcm_alaw').length, 1000)
  const f32 = new Float32Array(encodeSamples(pcm, 'pcm_f32le').slice().buffer)
  assert.equal(f32[100], (pcm[100] ?? 0) / 32768)
  assert.deepEqual(new Int16Array(encodeSamples(pcm, 'pcm_s16le').slice().buffer), pcm)
  // Companding loses precision, not the signal: within a few percent of full scale.
  for (const decoded of [decodeMulaw(encodeSamples(pcm, 'pcm_mulaw')), decodeAlaw(encodeSamples(pcm, 'pcm_alaw'))]) {
    for (let i = 0; i < pcm.length; i += 37) assert.ok(Math.abs((decoded[i] ?? 0) - (pcm[i] ?? 0)) < 700)
  }
})

test('a streaming WAV header has format tag, channels, rate and bits of the encoding', async () => {
  const expect = { pcm_s16le: [1, 16], pcm_f32le: [3, 32], pcm_alaw: [6, 8], pcm_mulaw: [7, 8] } as const
  for (const [encoding, [formatTag, bits]] of Object.entries(expect)) {
    const enc = await openEncoder({ container: 'wav', encoding: encoding as keyof typeof expect, sample_rate: 44100 })
    const h = parseWavHeader(enc.header())
    assert.equal(enc.header().length, 44)
    assert.deepEqual(h, {
      riff: 'RIFF',
      riffSize: 0xffffffff,
      wave: 'WAVE',
      fmt: 'fmt ',
      fmtSize: 16,
      formatTag,
      channels: 1,
      sampleRate: 44100,
      byteRate: (44100 * bits) / 8,
      blockAlign: bits / 8,
      bits,
      data: 'data',
      dataSize: 0xffffffff,
    })
  }
  const raw = await openEncoder({ container: 'raw', encoding: 'pcm_s16le', sample_rate: 8000 })
  assert.equal(raw.header().length, 0)
})

test('MP3 is a continuous stream of synced frames with the right duration', async () => {
  for (const [rate, bitRate] of [
    [24000, 64000],
    [44100, 128000],
    [8000, 192000],
    [48000, 32000],
  ] as const) {
    const enc = await openEncoder({ container: 'mp3', sample_rate: rate, bit_rate: bitRate })
    const parts = [0, 1, 2, 3].map(() => enc.encode(tone(rate / 2, rate)))
    parts.push(enc.finish())
    enc.release()
    const bytes = Buffer.concat(parts)
    const { seconds, sampleRate } = mp3Frames(bytes)
    assert.equal(sampleRate, rate)
    assert.ok(seconds >= 2 && seconds < 2.2, `${rate}: ${seconds}s`)
  }
})

test('MP3 rates snap to the nearest rate an MP3 stream can carry', async () => {
  assert.equal(mp3RateFor(22050), 22050)
  assert.equal(mp3RateFor(30000), 32000)
  assert.equal(mp3RateFor(9000), 8000)
  assert.equal((await openEncoder({ container: 'mp3', sample_rate: 47000, bit_rate: 128000 })).sampleRate, 48000)
})
