import { runJob, type SentenceJob } from '../../src/tts/job.ts'
import { JobStream, type SentenceRunner } from '../../src/tts/job-stream.ts'
import { loadSpeex, type SpeexModule } from '../../src/tts/resample.ts'
import { createDeterministicEngine } from './deterministic-engine.ts'

/**
 * Runs the deterministic engine on the main thread: no worker to boot, so a test server starts in
 * milliseconds. Jobs still go through `runJob` and a `JobStream`, the same path as the pool, and each
 * runs on a later turn of the event loop so callers observe the same asynchrony.
 */
export class InlineRunner implements SentenceRunner {
  readonly #engines
  #closed = false

  private constructor(private readonly speex: SpeexModule) {
    const engine = createDeterministicEngine()
    this.#engines = { espeak: engine, flite: engine }
  }

  static async create(): Promise<InlineRunner> {
    return new InlineRunner(await loadSpeex())
  }

  start(job: SentenceJob, signal?: AbortSignal): JobStream {
    const stream = new JobStream(() => {}, signal)
    setImmediate(() => {
      if (stream.closed) return
      if (this.#closed) return stream.fail(new Error('the speech service is closed'))
      try {
        runJob(
          this.#engines,
          this.speex,
          job,
          () => stream.closed,
          (e) => stream.push(e),
        )
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

/** The speech service of unit tests: the real pipeline over the deterministic engine, inline. */
export async function createDeterministicSpeech() {
  const { createSpeechService } = await import('../../src/tts/service.ts')
  return createSpeechService({ runner: await InlineRunner.create() })
}
