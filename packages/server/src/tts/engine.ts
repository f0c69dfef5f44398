/**
 * The one interface every speech engine implements. Engines are synchronous and run inside a worker
 * thread, so cancellation is cooperative: the chunk callback
 * returns `true` to stop, which is how a SharedArrayBuffer flag reaches a sentence in progress.
 */
export type EngineId = 'espeak' | 'flite'

/** One word of the input with its timing in the engine's native audio, in milliseconds. */
export interface EngineWord {
  text: string
  startMs: number
  endMs: number
}

/** One phoneme of the speech with its timing in the engine's native audio, in milliseconds. */
export interface EnginePhoneme {
  /** IPA where the engine can give it (espeak), else the engine's own symbol mapped to IPA (flite). */
  text: string
  startMs: number
  endMs: number
}

export interface EngineSynthOptions {
  /** The engine's own voice name (`en-us+f3`, `slt`, ...). */
  voice: string
  /** Speaking rate multiplier; 1 is the engine's normal rate. */
  speed: number
  /** 0..99, espeak's scale; engines without pitch control ignore it. */
  pitch?: number
}

/**
 * Receives native audio as it is produced, and words (and phonemes) whose timing became final with it
 * (an end is only known once the next one starts, so they may trail their audio by one call; a last
 * call may carry timings and no samples). Return `true` to abort the sentence.
 */
export type ChunkCallback = (samples: Int16Array, words?: EngineWord[], phonemes?: EnginePhoneme[]) => boolean

export interface Engine {
  /** A name for logs and measurements (`espeak`, `flite`, or a test engine's). */
  readonly id: string
  /** Native output rate in Hz (flite reads it per voice, so this is the usual rate). */
  readonly sampleRate: number
  /** Whether the engine knows this voice name (used to check the catalogue). */
  hasVoice(voice: string): boolean
  /** Synthesizes one sentence; returns the native rate actually produced. */
  synth(text: string, options: EngineSynthOptions, onChunk: ChunkCallback): { sampleRate: number }
}
