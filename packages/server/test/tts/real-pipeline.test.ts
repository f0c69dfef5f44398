import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { JobDone } from '../../src/tts/job.ts'
import { createSpeechService, DEFAULT_VOICE_ID, VOICE_ENTRIES, type SpeechService } from '../../src/tts/index.ts'
import { WorkerPool } from '../../src/tts/pool.ts'
import { probeSentence } from '../helpers/probe.ts'
import type { SynthesisRequest } from '../../src/tts/types.ts'
import { collect, concatBytes, mp3Frames, parseWavHeader, rms, seconds } from './audio.ts'

const ended: JobDone[] = []
let service: SpeechService
let pool: WorkerPool
before(async () => {
  pool = new WorkerPool({ workers: 1, warm: false, onJobEnd: (d) => ended.push(d) })
  await pool.ready
  service = await createSpeechService({ runner: pool })
})
after(() => service.close())

const ESPEAK = VOICE_ENTRIES.find((e) => e.engineVoice === 'en-gb-x-rp')?.voice.id ?? ''
const THREE = 'Good morning. The weather is fine today. See you later!'
const request = (over: Partial<SynthesisRequest> = {}): SynthesisRequest => ({
  text: THREE,
  voiceId: ESPEAK,
  outputFormat: { container: 'raw', encoding: 'pcm_s16le', sample_rate: 24000 },
  ...over,
})

test('each raw encoding carries its bytes per sample of real speech', async () => {
  const size = { pcm_f32le: 4, pcm_s16le: 2, pcm_mulaw: 1, pcm_alaw: 1 } as const
  for (const [encoding, bytes] of Object.entries(size)) {
    const chunks = await collect(
      service,
      request({ outputFormat: { container: 'raw', encoding: encoding as keyof typeof size, sample_rate: 16000 } }),
    )
    for (const c of chunks) assert.equal(c.audio.length, Math.round(c.durationSeconds * 16000) * bytes)
    assert.ok(seconds(chunks) > 2 && seconds(chunks) < 8, `${encoding}: ${seconds(chunks)} s`)
  }
  const pcm = new Int16Array(concatBytes(await collect(service, request())).slice().buffer)
  assert.ok(rms(pcm) > 1000)
})

test('WAV from flite: header first, at the asked rate, then the samples', async () => {
  const chunks = await collect(
    service,
    request({
      voiceId: DEFAULT_VOICE_ID,
      outputFormat: { container: 'wav', encoding: 'pcm_mulaw', sample_rate: 8000 },
    }),
  )
  const bytes = concatBytes(chunks)
  const h = parseWavHeader(bytes)
  assert.deepEqual([h.riff, h.wave, h.formatTag, h.channels, h.sampleRate, h.bits], ['RIFF', 'WAVE', 7, 1, 8000, 8])
  assert.equal(bytes.length, 44 + Math.round(seconds(chunks) * 8000))
})

test('MP3 of a multi-sentence text is one stream of synced frames of the right length', async () => {
  const chunks = await collect(
    service,
    request({ outputFormat: { container: 'mp3', sample_rate: 44100, bit_rate: 128000 } }),
  )
  const mp3 = mp3Frames(concatBytes(chunks))
  assert.equal(mp3.sampleRate, 44100)
  assert.ok(Math.abs(mp3.seconds - seconds(chunks)) < 0.2, `${mp3.seconds} vs ${seconds(chunks)}`)
})

test('every sentence yields audio, and timestamps count the audio before them', async () => {
  const chunks = await collect(service, request({ timestamps: true, timeOffsetSeconds: 1.5 }))
  const words = chunks.filter((c) => c.words)
  assert.equal(words.length, 3)
  for (let i = 0; i < chunks.length; i++) {
    if (chunks[i]?.words) assert.ok((chunks[i - 1]?.audio.length ?? 0) > 0)
  }
  assert.deepEqual(
    words.flatMap((c) => c.words?.words),
    THREE.split(' '),
  )
  const starts = words.flatMap((c) => c.words?.start ?? [])
  assert.equal(starts[0], 1.5)
  assert.ok(starts.every((s, i) => i === 0 || s >= (starts[i - 1] ?? 0)))
  assert.ok((words.at(-1)?.words?.end.at(-1) ?? 0) <= 1.5 + seconds(chunks) + 1e-6)
})

test('breaking out mid-stream cancels the worker, which serves the next request', async () => {
  const long = `${'This sentence is long enough to take a while to say, and it keeps going for some time. '.repeat(4)}`
  const first = ended.length
  for await (const chunk of service.synthesize(request({ text: long }))) {
    assert.ok(chunk.audio.length > 0)
    break
  }
  const next = await collect(service, request({ text: 'Next.' }))
  assert.ok(seconds(next) > 0.2)
  // Only the sentence being read and the one ahead ever reached the worker, plus "Next.".
  // (That a cancel stops a sentence mid-way is proven in pool.test.ts with a much longer one.)
  assert.ok(ended.slice(first).length <= 3)
})

test('language switches an espeak voice to that language', async () => {
  const en = await probeSentence(pool, { text: 'Guten Tag, wie geht es Ihnen?', voiceId: ESPEAK, sampleRate: 16000 })
  const de = await probeSentence(pool, {
    text: 'Guten Tag, wie geht es Ihnen?',
    voiceId: ESPEAK,
    sampleRate: 16000,
    language: 'de',
  })
  assert.ok(rms(de.pcm) > 1000)
  assert.notEqual(en.pcm.length, de.pcm.length)
})
