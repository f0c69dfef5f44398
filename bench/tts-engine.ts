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
