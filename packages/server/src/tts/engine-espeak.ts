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

  /**
   * The voice the engine holds: loading one costs 0.2–0.9 ms (its file and phoneme tables), as much as a
   * word of speech, so a sentence in the voice of the last one keeps it. Synthesis never changes it (the
   * text is escaped, so no SSML `<voice>` can), which `test/tts/engines.test.ts` holds.
   */
  let loaded: string | undefined
  const setVoice = (voice: string): boolean => {
    if (voice === loaded) return true
    loaded = undefined
    if (worker.set_voice(voice) !== 0) return false
    loaded = voice
    return true
  }

  function synth(text: string, options: EngineSynthOptions, onChunk: ChunkCallback): { sampleRate: number } {
    // An unknown voice returns non-zero and keeps the previous one: fall back to a known voice instead.
    if (!setVoice(options.voice)) setVoice('en-us')
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

  // Loading the voice is the check; synth loads the one it needs, so what this leaves loaded is harmless.
  return { id: 'espeak', sampleRate, synth, hasVoice: setVoice }
}
