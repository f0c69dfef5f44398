import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { VOICE_ENTRIES } from '../../src/tts/index.ts'
import { WorkerPool } from '../../src/tts/pool.ts'
import { probeSentence } from '../helpers/probe.ts'
import { createEspeakEngine } from '../../src/tts/engine-espeak.ts'
import { createFliteEngine } from '../../src/tts/engine-flite.ts'
import type { Engine } from '../../src/tts/engine.ts'
import { rms } from './audio.ts'

let pool: WorkerPool
before(async () => {
  pool = new WorkerPool({ workers: 1, warm: false })
  await pool.ready
})
after(() => pool.close())

const SENTENCE = 'The quick brown fox jumps over the lazy dog.'
const WORDS = 9
const RATES = [8000, 16000, 24000, 44100, 48000]
const voiceId = (engineVoice: string) => VOICE_ENTRIES.find((e) => e.engineVoice === engineVoice)?.voice.id ?? ''

for (const engineVoice of ['en-us+f3', 'de+m3', 'slt', 'rms', 'awb', 'kal16']) {
  test(`${engineVoice}: speech at every rate, exactly native length × rate ratio`, async () => {
    for (const sampleRate of RATES) {
      const { pcm, done } = await probeSentence(pool, { text: SENTENCE, voiceId: voiceId(engineVoice), sampleRate })
      const expected = (done.nativeSamples * sampleRate) / done.nativeRate
      assert.ok(Math.abs(pcm.length - expected) <= 2, `${sampleRate}: ${pcm.length} vs ${expected}`)
      const secondsPerWord = pcm.length / sampleRate / WORDS
      assert.ok(secondsPerWord > 0.15 && secondsPerWord < 1, `${sampleRate}: ${secondsPerWord} s/word`)
      assert.ok(rms(pcm) > 1000, `${sampleRate}: rms ${rms(pcm)}`)
    }
  })
}

test('espeak words carry exact positions; flite words are estimated across the speech', async () => {
  for (const engineVoice of ['en-us+f3', 'slt']) {
    const { pcm, done } = await probeSentence(pool, {
      text: 'Tom & Jerry met 3 cats.',
      voiceId: voiceId(engineVoice),
      sampleRate: 16000,
    })
    assert.deepEqual(
      done.words.map((w) => w.text),
      ['Tom', '&', 'Jerry', 'met', '3', 'cats.'],
    )
    const audioMs = (pcm.length / 16000) * 1000
    for (const [i, w] of done.words.entries()) {
      assert.ok(w.startMs <= w.endMs && w.endMs <= audioMs + 1, `${engineVoice} ${w.text}`)
      if (i > 0) assert.ok(w.startMs >= (done.words[i - 1]?.endMs ?? 0) - 1e-9)
    }
    assert.ok((done.words.at(-1)?.endMs ?? 0) > audioMs / 2)
  }
})

test('speed changes the length of the speech', async () => {
  for (const engineVoice of ['en-us+f3', 'slt']) {
    const normal = await probeSentence(pool, { text: SENTENCE, voiceId: voiceId(engineVoice), sampleRate: 16000 })
    const fast = await probeSentence(pool, {
      text: SENTENCE,
      voiceId: voiceId(engineVoice),
      sampleRate: 16000,
      speed: 1.5,
    })
    const slow = await probeSentence(pool, {
      text: SENTENCE,
      voiceId: voiceId(engineVoice),
      sampleRate: 16000,
      speed: 0.6,
    })
    assert.ok(fast.pcm.length < normal.pcm.length * 0.85 && slow.pcm.length > normal.pcm.length * 1.3, engineVoice)
  }
})

test('every catalogued voice exists in its engine', async () => {
  const engines = { espeak: await createEspeakEngine(), flite: await createFliteEngine() }
  for (const e of VOICE_ENTRIES) assert.ok(engines[e.engine].hasVoice(e.engineVoice), e.engineVoice)
  assert.equal(engines.espeak.hasVoice('xx-nope'), false)
})

test('flite keeps one instance across sentences and says each as a fresh instance would', async () => {
  const synth = (engine: Engine, text: string, voice: string, speed = 1) => {
    const parts: Int16Array[] = []
    engine.synth(text, { voice, speed }, (pcm) => {
      parts.push(pcm.slice())
      return false
    })
    return Buffer.concat(parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength)))
  }
  const kept = await createFliteEngine()
  const first = synth(kept, SENTENCE, 'slt')
  // Other voices, speeds and a longer text between: whatever they left in memory must not carry over.
  synth(kept, 'Access tokens let a browser speak without ever seeing the API key, again and again.', 'awb', 0.7)
  synth(kept, 'One.', 'kal16', 1.4)
  assert.ok(synth(kept, SENTENCE, 'slt').equals(first))
  const fresh = await createFliteEngine()
  assert.ok(synth(fresh, 'One.', 'kal16', 1.4).equals(synth(kept, 'One.', 'kal16', 1.4)))
  assert.ok(first.length > 16000)
})
