import type { JobDone } from './job.ts'
import type { SentenceRunner } from './job-stream.ts'
import { resolveModel } from './models.ts'
import { synthesize } from './pipeline.ts'
import { WorkerPool } from './pool.ts'
import type { SpeechService } from './types.ts'
import { createVoiceCatalogue } from './voices.ts'

export interface SpeechServiceOptions {
  /** Worker threads for the engines. @default os.availableParallelism() */
  workers?: number
  /** Warm each worker's engines with dummy sentences before taking work. @default true */
  warm?: boolean
  /** Called as each sentence job ends in a worker, cancelled ones included (observability, tests). */
  onJobEnd?: (done: JobDone) => void
  /**
   * Where sentences are synthesized. @default a WorkerPool of the real engines, built from the
   * options above and owned (closed) by the service
   */
  runner?: SentenceRunner
}

/** Voices, models and streaming synthesis over a sentence runner (the worker pool in production). */
export async function createSpeechService(options: SpeechServiceOptions = {}): Promise<SpeechService> {
  const runner = options.runner ?? (await startPool(options))
  const voices = createVoiceCatalogue()
  const deps = { runner, entry: voices.entry }
  return {
    voices: { list: voices.list, get: voices.get },
    resolveModel,
    synthesize: (request, signal) => synthesize(deps, request, signal),
    close: () => runner.close(),
    ...(runner.load && { load: () => runner.load?.() }),
  }
}

async function startPool(options: SpeechServiceOptions): Promise<WorkerPool> {
  const pool = new WorkerPool({
    ...(options.workers !== undefined && { workers: options.workers }),
    warm: options.warm ?? true,
    ...(options.onJobEnd && { onJobEnd: options.onJobEnd }),
  })
  try {
    await pool.ready
  } catch (err) {
    await pool.close()
    throw err
  }
  return pool
}
