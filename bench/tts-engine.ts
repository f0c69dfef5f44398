import type { SentenceRunner } from '../packages/server/src/tts/job-stream.ts'
import { createEngines } from '../packages/server/src/tts/engines.ts'
import { runJob, type SentenceJob } from '../packages/server/src/tts/job.ts'
import { resolveVoice } from '../packages/server/src/tts/language.ts'
import { loadSpeex } from '../packages/server/src/tts/resample.ts'
import { createVoiceCatalogue } from '../packages/server/src/tts/voices.ts'
import { probeSentence } from '../packages/server/test/helpers/probe.ts'
import { threadCpuMs } from './thread-cpu.ts'

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
  /** CPU time ÷ audio time over the sentences, the median round's. */
  factor: number
  /** The rounds' least and greatest factors. */
  spread: [number, number]
  /** The same by wall-clock time: above `factor` when other processes held the core. */
  wallFactor: number
  /** Streams `workers` cores could keep synthesizing in real time: workers ÷ factor. */
  ceiling: number
}

/**
 * An engine's real-time factor on this machine: the sentences synthesized one after another in this
 * thread, its CPU time against the seconds of audio made (CPU time, not wall-clock: on a shared
 * machine the wall clock also counts other processes' turns on the core). A stream needs `factor` of
 * a core, so `workers` workers, one a core, keep at most `workers ÷ factor` streams in real time: the
 * ceiling a burst of streams cannot pass however the work is scheduled (the server's own thread,
 * encoding and sockets, shares the same cores on top).
 * @example
 * const { ceiling } = await measureRealTimeFactor(DEFAULT_VOICE_ID, SENTENCES, { rounds: 3, workers: 2 })
 */
export async function measureRealTimeFactor(
  voiceId: string,
  sentences: string[],
  options: { rounds: number; workers: number },
): Promise<RealTimeFactor> {
  const engines = await createEngines()
  const speex = await loadSpeex()
  const entry = createVoiceCatalogue().entry(voiceId)
  if (!entry) throw new Error(`no voice ${voiceId}`)
  const jobFor = (text: string): SentenceJob => ({ ...resolveVoice(entry), text, speed: 1, sampleRate: 24000 })
  const factors: number[] = []
  const wallFactors: number[] = []
  for (let round = -1; round < options.rounds; round++) {
    let samples = 0
    const cpu = threadCpuMs()
    const wall = performance.now()
    for (const text of sentences) {
      runJob(
        engines,
        speex,
        jobFor(text),
        () => false,
        (e) => {
          if (e.type === 'chunk') samples += e.pcm.length
        },
      )
    }
    const audioMs = (samples * 1000) / 24000
    if (round < 0) continue
    factors.push((threadCpuMs() - cpu) / audioMs)
    wallFactors.push((performance.now() - wall) / audioMs)
  }
  const factor = median(factors)
  const spread: [number, number] = [Math.min(...factors), Math.max(...factors)]
  return { factor, spread, wallFactor: median(wallFactors), ceiling: options.workers / factor }
}

const median = (values: number[]) =>
  percentile(
    [...values].sort((a, b) => a - b),
    50,
  )
