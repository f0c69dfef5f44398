import type { EngineId } from './engine.ts'
import { InlineRunner } from './inline.ts'
import type { JobDone } from './job.ts'
import type { SentenceRunner } from './job-stream.ts'
import { resolveModel } from './models.ts'
import { planJobs, synthesize } from './pipeline.ts'
import { WorkerPool } from './pool.ts'
import type { SpeechService, SynthesisRequest } from './types.ts'
import { createVoiceCatalogue } from './voices.ts'
import { concatPcm } from './pcm.ts'

export interface SpeechServiceOptions {
  /** Worker threads for the real engines. @default os.availableParallelism() */
  workers?: number
  /** `deterministic`: a tone per word, inline on the main thread, ready in milliseconds (tests). @default 'real' */
  engine?: 'real' | 'deterministic'
  /** Warm each worker's engines with dummy sentences before taking work. @default true */
  warm?: boolean
  /** Called as each sentence job ends in a worker, cancelled ones included (observability, tests). */
  onJobEnd?: (done: JobDone) => void
}

/** One sentence synthesized straight through the runner, with the engine's own measurements. */
export interface SentenceProbe {
  pcm: Int16Array
  sampleRate: number
  done: JobDone
}

export interface VoxgateSpeechService extends SpeechService {
  /** The engine that actually speaks (`deterministic` for the test service). */
  readonly engine: 'real' | 'deterministic'
  /** Synthesizes one sentence as given (no splitting, no encoding) at `sampleRate`: for benchmarks and tests. */
  probeSentence(request: Pick<SynthesisRequest, 'text' | 'voiceId' | 'language' | 'speed'> & { sampleRate: number }): Promise<SentenceProbe>
}

export async function createSpeechService(options: SpeechServiceOptions = {}): Promise<VoxgateSpeechService> {
  const engine = options.engine ?? 'real'
  let runner: SentenceRunner
  if (engine === 'deterministic') runner = await InlineRunner.create()
  else {
    const pool = new WorkerPool({ ...(options.workers !== undefined && { workers: options.workers }), warm: options.warm ?? true, ...(options.onJobEnd && { onJobEnd: options.onJobEnd }) })
    try {
      await pool.ready
    } catch (err) {
      await pool.close()
      throw err
    }
    runner = pool
  }
  const voices = createVoiceCatalogue()
  const engineOverride: EngineId | undefined = engine === 'deterministic' ? 'deterministic' : undefined
  const deps = { runner, entry: voices.entry, ...(engineOverride && { engineOverride }) }
  return {
    engine,
    voices: { list: voices.list, get: voices.get },
    resolveModel,
    synthesize: (request, signal) => synthesize(deps, request, signal),
    probeSentence: async (request) => {
      const job = planJobs(deps, { ...request, outputFormat: { container: 'raw', encoding: 'pcm_s16le', sample_rate: request.sampleRate } }, request.sampleRate)(request.text)
      const parts: Int16Array[] = []
      for await (const event of runner.start(job)) {
        if (event.type === 'done') return { pcm: concatPcm(parts), sampleRate: request.sampleRate, done: event }
        parts.push(event.pcm)
      }
      throw new Error('the sentence ended without a result')
    },
    close: () => runner.close(),
  }
}
