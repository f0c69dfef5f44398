import { createHash } from 'node:crypto'
import type { ChunkCallback, Engine, EngineSynthOptions } from '../../src/tts/engine.ts'
import { tokenize } from '../../src/tts/words.ts'

/** Audio length of one word at speed 1; exact, so tests can predict durations and timestamps. */
export const DETERMINISTIC_WORD_MS = 60
export const DETERMINISTIC_RATE = 16000
const AMPLITUDE = 8000

/** A frequency from 200 to 999 Hz that depends only on the voice and the word. */
function frequencyOf(voice: string, word: string): number {
  return 200 + (createHash('sha1').update(`${voice}\n${word}`).digest().readUInt16BE(0) % 800)
}

/**
 * The stand-in engine for tests of other layers (STYLE.md §8: the engine is the only thing swapped).
 * One tone per word, one chunk per word, words timed exactly; no state, no randomness, no startup cost.
 */
export function createDeterministicEngine(): Engine {
  function synth(text: string, options: EngineSynthOptions, onChunk: ChunkCallback): { sampleRate: number } {
    const perWord = Math.round((DETERMINISTIC_RATE * DETERMINISTIC_WORD_MS) / 1000 / options.speed)
    let at = 0
    for (const token of tokenize(text)) {
      const hz = frequencyOf(options.voice, token.text)
      const pcm = new Int16Array(perWord)
      for (let i = 0; i < perWord; i++)
        pcm[i] = Math.round(AMPLITUDE * Math.sin((2 * Math.PI * hz * i) / DETERMINISTIC_RATE))
      const startMs = (at * 1000) / DETERMINISTIC_RATE
      at += perWord
      if (onChunk(pcm, [{ text: token.text, startMs, endMs: (at * 1000) / DETERMINISTIC_RATE }])) break
    }
    return { sampleRate: DETERMINISTIC_RATE }
  }
  return { id: 'deterministic', sampleRate: DETERMINISTIC_RATE, synth, hasVoice: () => true }
}
