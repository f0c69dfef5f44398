import type { JobEvent, SentenceJob } from './job.ts'

export interface StartOptions {
  /**
   * A listener is waiting for this sentence now (a request's first sentence): it goes ahead of
   * look-ahead sentences, so under load every stream starts before any stream reads ahead.
   */
  urgent?: boolean
}

/** Where sentences are synthesized: the worker pool, or inline for the deterministic engine. */
export interface SentenceRunner {
  /** Queues a sentence; its events arrive in order on the returned stream. */
  start(job: SentenceJob, signal?: AbortSignal, options?: StartOptions): JobStream
  close(): Promise<void>
  /** Sentences queued, workers busy, workers running (metrics, read on each scrape). */
  load?(): { queued: number; busy: number; workers: number }
}

/**
 * The events of one sentence job as an async iterator: pushed by the runner, pulled by the pipeline.
 * It ends after the `done` event, rejects on a worker failure or an abort, and `cancel()` (idempotent)
 * tells the runner to stop the sentence, wherever it is (queued or in progress).
 */
export class JobStream implements AsyncIterableIterator<JobEvent> {
  #events: JobEvent[] = []
  #error: unknown
  #ended = false
  #closed = false
  #wake: (() => void) | undefined
  #onCancel: () => void
  #signal: AbortSignal | undefined
  readonly #onAbort = () => {
    this.fail(this.#signal?.reason ?? new Error('aborted'))
  }

  constructor(onCancel: () => void, signal?: AbortSignal) {
    this.#onCancel = onCancel
    this.#signal = signal
    signal?.addEventListener('abort', this.#onAbort, { once: true })
    if (signal?.aborted) this.#onAbort()
  }

  /** True once the consumer gave up (cancel or abort): events pushed after that are dropped. */
  get closed(): boolean {
    return this.#closed
  }

  push(event: JobEvent): void {
    if (this.#closed || this.#ended) return
    this.#events.push(event)
    if (event.type === 'done') this.#end()
    this.#wake?.()
  }

  fail(error: unknown): void {
    if (this.#ended) return
    // The consumer learns of the failure at once, ahead of audio it has not read yet.
    this.#events.length = 0
    this.#error = error
    this.#end()
    this.cancel()
    this.#wake?.()
  }

  cancel(): void {
    if (this.#closed) return
    this.#closed = true
    this.#end()
    this.#onCancel()
    this.#wake?.()
  }

  async next(): Promise<IteratorResult<JobEvent>> {
    for (;;) {
      const event = this.#events.shift()
      if (event) return { value: event, done: false }
      if (this.#error !== undefined) throw this.#error
      if (this.#ended) return { value: undefined, done: true }
      await new Promise<void>((resolve) => (this.#wake = resolve))
      this.#wake = undefined
    }
  }

  async return(): Promise<IteratorResult<JobEvent>> {
    this.cancel()
    return { value: undefined, done: true }
  }

  [Symbol.asyncIterator](): this {
    return this
  }

  #end(): void {
    this.#ended = true
    this.#signal?.removeEventListener('abort', this.#onAbort)
  }
}
