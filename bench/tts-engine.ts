import type { SentenceRunner } from '../packages/server/src/tts/job-stream.ts'
import { probeSentence } from '../packages/server/test/helpers/probe.ts'

export interface EngineFirstSentence {
  voiceId: string
  runs: number
  /** Engine time from the start of synthesis to its first audio, measured inside the worker (ms). */
  p50: number
  p95: number
  /** The same for the whole sentence, for context. */
  totalP50: number
}

/** Nearest-rank percentile of a sorted list. */
function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN
}

/**
 * The engine's own time to first audio for one sentence: measured by the worker around the engine
 * call, so it excludes queueing, thread hops, resampling of later chunks and encoding. Runs are
 * sequential so they never wait for each other.
 * @example
 * const pool = new WorkerPool()
 * const { p50, p95 } = await measureEngineFirstSentence(pool, DEFAULT_VOICE_ID, 'Hello there.', 50)
 */
export async function measureEngineFirstSentence(
  runner: SentenceRunner,
  voiceId: string,
  text: string,
  runs: number,
  warmupRuns = 3,
): Promise<EngineFirstSentence> {
  const first: number[] = []
  const total: number[] = []
  // Unmeasured runs first, so the figure is the warm engine's, not a first-use load of the voice.
  for (let i = 0; i < warmupRuns; i++) await probeSentence(runner, { text, voiceId, sampleRate: 24000 })
  for (let i = 0; i < runs; i++) {
    const { done } = await probeSentence(runner, { text, voiceId, sampleRate: 24000 })
    first.push(done.firstChunkMs)
    total.push(done.totalMs)
  }
  first.sort((a, b) => a - b)
  total.sort((a, b) => a - b)
  return { voiceId, runs, p50: percentile(first, 50), p95: percentile(first, 95), totalP50: percentile(total, 50) }
}

export interface RealTimeFactor {
  /** Engine time ÷ audio time over `sentences`, the median round's (an engine time is the worker's). */
  factor: number
  /** The rounds' least and greatest factors. */
  spread: [number, number]
  /** Streams the workers could keep synthesizing in real time: workers ÷ factor. */
  ceiling: number
}

/**
 * An engine's real-time factor on this machine: each sentence synthesized alone, one after another
 * (so each has a core to itself), engine time against the seconds of audio it made. A stream needs
 * `factor` of a core, so `workers` workers keep at most `workers ÷ factor` streams in real time: the
 * ceiling a burst of streams cannot pass however the work is scheduled (the server's own thread, the
 * encoding and sockets, share the same cores on top).
 * @example
 * const { ceiling } = await measureRealTimeFactor(pool, DEFAULT_VOICE_ID, TWELVE, { rounds: 3, workers: pool.size })
 */
export async function measureRealTimeFactor(
  runner: SentenceRunner,
  voiceId: string,
  sentences: string[],
  options: { rounds: number; workers: number },
): Promise<RealTimeFactor> {
  const factors: number[] = []
  for (let round = -1; round < options.rounds; round++) {
    let engineMs = 0
    let audioMs = 0
    for (const text of sentences) {
      const { done } = await probeSentence(runner, { text, voiceId, sampleRate: 24000 })
      engineMs += done.totalMs
      audioMs += (done.nativeSamples * 1000) / done.nativeRate
    }
    if (round >= 0) factors.push(engineMs / audioMs)
  }
  factors.sort((a, b) => a - b)
  const factor = percentile(factors, 50)
  return { factor, spread: [factors[0] ?? NaN, factors.at(-1) ?? NaN], ceiling: options.workers / factor }
}
