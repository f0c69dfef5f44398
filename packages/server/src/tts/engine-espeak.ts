import EspeakInit from '@echogarden/espeak-ng-emscripten'
import type { ChunkCallback, Engine, EnginePhoneme, EngineSynthOptions, EngineWord } from './engine.ts'
import { PhonemeTracker } from './phonemes.ts'
import { WordAligner } from './words.ts'

/** espeak's normal rate in words per minute; `speed` scales it. */
const BASE_RATE_WPM = 175
const MIN_RATE_WPM = 80
const MAX_RATE_WPM = 450
const DEFAULT_PITCH = 50

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' }

/**
 * espeak parses its input as SSML, so `& < >` are escaped. It reports word positions in code points
 * of the escaped text (an entity at its last character), so keep, for each escaped code point, the
 * UTF-16 offset of the input character it came from.
 */
export function escapeForEspeak(text: string): { escaped: string; origin: number[] } {
  let escaped = ''
  const origin: number[] = []
  for (let i = 0; i < text.length; ) {
    const cp = text.codePointAt(i) ?? 0
    const ch = String.fromCodePoint(cp)
    const out = ENTITIES[ch] ?? ch
    escaped += out
    for (let k = 0; k < [...out].length; k++) origin.push(i)
    i += ch.length
  }
  return { escaped, origin }
}

/** eSpeak NG compiled to JS: one instance per thread (it keeps global C state), streams ~100 ms chunks. */
export async function createEspeakEngine(): Promise<Engine> {
  const module = await EspeakInit()
  const worker = new module.eSpeakNGWorker()
  const sampleRate = worker.get_samplerate()

  function synth(text: string, options: EngineSynthOptions, onChunk: ChunkCallback): { sampleRate: number } {
    // An unknown voice returns non-zero and keeps the previous one: fall back to a known voice instead.
    if (worker.set_voice(options.voice) !== 0) worker.set_voice('en-us')
    const wpm = Math.round(BASE_RATE_WPM * options.speed)
    worker.set_rate(Math.min(MAX_RATE_WPM, Math.max(MIN_RATE_WPM, wpm)))
    worker.set_pitch(options.pitch ?? DEFAULT_PITCH)
    const { escaped, origin } = escapeForEspeak(text)
    const aligner = new WordAligner(text)
    const phonemes = new PhonemeTracker()
    let samplesOut = 0
    let speechEndMs: number | undefined
    let aborted = false
    worker.synthesize(escaped, (samples, events) => {
      const words: EngineWord[] = []
      const phones: EnginePhoneme[] = []
      for (const e of events ?? []) {
        if (e.type === 'word') words.push(...aligner.mark(origin[e.text_position - 1] ?? text.length, e.audio_position))
        else if (e.type === 'phoneme')
          phones.push(...phonemes.mark(typeof e.id === 'string' ? e.id : '', e.audio_position))
        else if (e.type === 'end') speechEndMs = e.audio_position
      }
      const pcm = samples ?? new Int16Array(0)
      samplesOut += pcm.length
      if (pcm.length === 0 && words.length === 0 && phones.length === 0) return false
      aborted = onChunk(pcm, words, phones)
      return aborted
    })
    if (!aborted) {
      const endMs = speechEndMs ?? (samplesOut * 1000) / sampleRate
      const last = aligner.finish(endMs)
      const lastPhones = phonemes.finish(endMs)
      if (last.length > 0 || lastPhones.length > 0) onChunk(new Int16Array(0), last, lastPhones)
    }
    return { sampleRate }
  }

  // set_voice's result is the check; synth always sets the voice again, so the side effect is harmless.
  return { id: 'espeak', sampleRate, synth, hasVoice: (voice) => worker.set_voice(voice) === 0 }
}
