import { createDeterministicEngine } from './engine-deterministic.ts'
import { runJob } from './job.ts'
import { JobStream, type SentenceRunner } from './job-stream.ts'
import { loadSpeex, type SpeexModule } from './resample.ts'
import type { SentenceJob } from './job.ts'

/**
 * Runs the deterministic engine on the main thread: no worker to boot, so a test server starts in
 * milliseconds. Jobs still go through `runJob` and a `JobStream`, the same path as the pool, and each
 * runs on a later turn of the event loop so callers observe the same asynchrony.
 */
export class InlineRunner implements SentenceRunner {
  readonly #engines = { deterministic: createDeterministicEngine() }
  #closed = false

  private constructor(private readonly speex: SpeexModule) {}

  static async create(): Promise<InlineRunner> {
    return new InlineRunner(await loadSpeex())
  }

  start(job: SentenceJob, signal?: AbortSignal): JobStream {
    const stream = new JobStream(() => {}, signal)
    setImmediate(() => {
      if (stream.closed) return
      if (this.#closed) return stream.fail(new Error('the speech service is closed'))
      try {
        runJob(this.#engines, this.speex, { ...job, engine: 'deterministic' }, () => stream.closed, (e) => stream.push(e))
      } catch (err) {
        stream.fail(err)
      }
    })
    return stream
  }

  async close(): Promise<void> {
    this.#closed = true
  }
}
