import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { DEFAULT_VOICE_ID, type SpeechService } from '../../src/tts/index.ts'
import { DETERMINISTIC_WORD_MS } from '../helpers/deterministic-engine.ts'
import { createDeterministicSpeech } from '../helpers/inline-runner.ts'
import type { SynthesisRequest } from '../../src/tts/types.ts'
import { collect, concatBytes, parseWavHeader, rms, seconds } from './audio.ts'

let service: SpeechService
before(async () => {
  service = await createDeterministicSpeech()
})
after(() => service.close())

const request = (over: Partial<SynthesisRequest> = {}): SynthesisRequest => ({
  text: 'One two three. Four five.',
  voiceId: DEFAULT_VOICE_ID,
  outputFormat: { container: 'raw', encoding: 'pcm_s16le', sample_rate: 16000 },
  ...over,
})

test('the deterministic engine gives identical bytes twice, and real tones', async () => {
  for (const outputFormat of [
    request().outputFormat,
    { container: 'wav', encoding: 'pcm_mulaw', sample_rate: 8000 },
    { container: 'mp3', sample_rate: 24000, bit_rate: 64000 },
  ] as const) {
    const a = concatBytes(await collect(service, request({ outputFormat })))
    const b = concatBytes(await collect(service, request({ outputFormat })))
    assert.ok(a.length > 0)
    assert.deepEqual(a, b)
  }
  const pcm = new Int16Array(concatBytes(await collect(service, request())).slice().buffer)
  assert.equal(pcm.length, (5 * 16000 * DETERMINISTIC_WORD_MS) / 1000)
  assert.ok(rms(pcm) > 3000)
})

test('word timestamps are exact and offset by earlier sentences and timeOffsetSeconds', async () => {
  const chunks = await collect(service, request({ timestamps: true, timeOffsetSeconds: 10 }))
  const words = chunks.flatMap((c) =>
    c.words ? c.words.words.map((w, i) => [w, c.words?.start[i], c.words?.end[i]]) : [],
  )
  assert.deepEqual(words, [
    ['One', 10, 10.06],
    ['two', 10.06, 10.12],
    ['three.', 10.12, 10.18],
    ['Four', 10.18, 10.24],
    ['five.', 10.24, 10.3],
  ])
  assert.ok(chunks.filter((c) => c.words).every((c) => c.audio.length === 0 && c.durationSeconds === 0))
  assert.equal((await collect(service, request())).filter((c) => c.words).length, 0)
})

test('durations match the bytes at every rate and encoding', async () => {
  const bytesPerSample = { pcm_f32le: 4, pcm_s16le: 2, pcm_mulaw: 1, pcm_alaw: 1 } as const
  for (const sampleRate of [8000, 16000, 22050, 44100, 48000]) {
    for (const [encoding, size] of Object.entries(bytesPerSample)) {
      const chunks = await collect(
        service,
        request({
          outputFormat: {
            container: 'raw',
            encoding: encoding as keyof typeof bytesPerSample,
            sample_rate: sampleRate,
          },
        }),
      )
      for (const c of chunks) assert.equal(c.audio.length, Math.round(c.durationSeconds * sampleRate) * size)
      // Each sentence is resampled on its own: at most one sample of rounding per sentence.
      const expected = (5 * DETERMINISTIC_WORD_MS * sampleRate) / 1000
      assert.ok(Math.abs(Math.round(seconds(chunks) * sampleRate) - expected) <= 2, `${sampleRate} ${encoding}`)
    }
  }
})

test('a WAV stream starts with its header, and speed shortens the audio', async () => {
  const chunks = await collect(
    service,
    request({ outputFormat: { container: 'wav', encoding: 'pcm_f32le', sample_rate: 24000 } }),
  )
  const h = parseWavHeader(chunks[0]?.audio ?? new Uint8Array(0))
  assert.deepEqual([h.riff, h.formatTag, h.sampleRate, h.bits], ['RIFF', 3, 24000, 32])
  assert.equal(concatBytes(chunks).length, 44 + Math.round(seconds(chunks) * 24000) * 4)
  const fast = seconds(await collect(service, request({ speed: 1.5 })))
  assert.ok(Math.abs(fast - 0.3 / 1.5) < 0.001)
})

test('empty or whitespace transcripts yield nothing', async () => {
  assert.deepEqual(await collect(service, request({ text: '' })), [])
  assert.deepEqual(
    await collect(
      service,
      request({ text: ' \n ', outputFormat: { container: 'wav', encoding: 'pcm_s16le', sample_rate: 8000 } }),
    ),
    [],
  )
})

test('an unknown voice is a coded error', async () => {
  await assert.rejects(collect(service, request({ voiceId: 'nope' })), { code: 'voice_not_found' })
})
