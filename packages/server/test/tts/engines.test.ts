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

test('espeak keeps the voice of the last sentence and says each in the voice it asks for', async () => {
  // eSpeak varies its own speech a little (two runs never match byte for byte, and lengths move by a few
  // dozen samples), but each voice has a length of its own for a sentence: within 0.5 % of it, the voice
  // spoke; the voices below are 2.7 % and more apart.
  const samples = (engine: Engine, text: string, voice: string) => {
    let n = 0
    engine.synth(text, { voice, speed: 1 }, (pcm) => {
      n += pcm.length
      return false
    })
    return n
  }
  const reference = await createEspeakEngine()
  const expected = {
    f3: samples(reference, SENTENCE, 'en-us+f3'),
    m3: samples(reference, SENTENCE, 'en-us+m3'),
    de: samples(reference, SENTENCE, 'de+m3'),
    us: samples(reference, SENTENCE, 'en-us'),
  }
  const spoke = (n: number, voice: keyof typeof expected) => {
    for (const [other, length] of Object.entries(expected)) {
      const near = Math.abs(n - length) <= length * 0.005
      assert.equal(near, other === voice, `${n} samples against ${other}'s ${length}, asked for ${voice}`)
    }
  }
  const kept = await createEspeakEngine()
  spoke(samples(kept, SENTENCE, 'en-us+f3'), 'f3')
  spoke(samples(kept, SENTENCE, 'en-us+f3'), 'f3')
  spoke(samples(kept, SENTENCE, 'en-us+m3'), 'm3')
  samples(kept, 'Guten Tag, wie geht es Ihnen? Ein kleiner Hund, a café, and the Zeitgeist.', 'de+m3')
  spoke(samples(kept, SENTENCE, 'de+m3'), 'de')
  spoke(samples(kept, SENTENCE, 'en-us+f3'), 'f3')
  // A check loads the voice it checks; the next sentence still gets its own, and an unknown voice en-us.
  assert.equal(kept.hasVoice('de+m3'), true)
  spoke(samples(kept, SENTENCE, 'en-us+f3'), 'f3')
  assert.equal(kept.hasVoice('xx-nope'), false)
  spoke(samples(kept, SENTENCE, 'en-us+f3'), 'f3')
  spoke(samples(kept, SENTENCE, 'xx-nope'), 'us')
  // A text that switches language for a word leaves the voice as it was.
  samples(kept, 'Ein kleiner Hund, a café, and the Zeitgeist.', 'en-us+m3')
  spoke(samples(kept, SENTENCE, 'en-us+m3'), 'm3')
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
