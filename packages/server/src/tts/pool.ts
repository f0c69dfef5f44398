import { availableParallelism } from 'node:os'
import type { Worker } from 'node:worker_threads'
import type { JobDone, SentenceJob } from './job.ts'
import { JobStream, type SentenceRunner, type StartOptions } from './job-stream.ts'
import type { FromWorker, ToWorker, WorkerInit } from './worker.ts'
import { sibling, startWorker } from '../workers.ts'

export interface PoolOptions {
  /** @default os.availableParallelism(); more workers than cores was measured slower (TTS-ENGINES.md §6). */
  workers?: number
  /** Synthesize a few dummy sentences in each worker before it takes work. @default true */
  warm?: boolean
  /** Called as each job ends in its worker, cancelled ones included (observability, tests). */
  onJobEnd?: (done: JobDone) => void
  /** The engines module each worker loads (see engines.ts). @default the real engines */
  engines?: URL
}

/** Consecutive workers that fail to start before the pool stops replacing them. */
const MAX_BOOT_FAILURES = 3

interface Pending {
  id: number
  job: SentenceJob
  stream: JobStream
}

interface Slot {
  worker: Worker
  flag: Int32Array
  ready: boolean
  current: Pending | undefined
}

/**
 * A fixed set of worker threads, each with its own engines (espeak keeps global C state, so one
 * instance per thread). Jobs queue here in FIFO order; PCM comes back transferred, not copied.
 * Cancelling a running job writes its id into the slot's shared flag, which the engine's chunk
 * callback reads; the slot is free again when the worker reports the job done.
 */
export class WorkerPool implements SentenceRunner {
  readonly ready: Promise<void>
  #slots: Slot[] = []
  /** Sentences a listener waits for now, served before `#queue` (look-ahead sentences). */
  #urgent: Pending[] = []
  #queue: Pending[] = []
  #nextId = 1
  #closed = false
  #bootFailures = 0
  #broken: Error | undefined
  readonly #warm: boolean
  readonly #onJobEnd: PoolOptions['onJobEnd']
  readonly #engines: URL

  constructor(options: PoolOptions = {}) {
    this.#warm = options.warm ?? true
    this.#onJobEnd = options.onJobEnd
    this.#engines = options.engines ?? sibling(import.meta.url, 'engines')
    const count = Math.max(1, options.workers ?? availableParallelism())
    const boots = Array.from({ length: count }, () => this.#spawn())
    this.ready = Promise.all(boots).then(() => undefined)
  }

  get size(): number {
    return this.#slots.length
  }

  load(): { queued: number; busy: number; workers: number } {
    return {
      queued: this.#urgent.length + this.#queue.length,
      busy: this.#slots.filter((s) => s.current).length,
      workers: this.#slots.length,
    }
  }

  start(job: SentenceJob, signal?: AbortSignal, options: StartOptions = {}): JobStream {
    const { urgent } = options
    const id = this.#nextId
    this.#nextId = this.#nextId >= 0x7fffffff ? 1 : this.#nextId + 1
    const stream = new JobStream(() => this.#cancel(id), signal)
    if (this.#closed || this.#broken) {
      stream.fail(this.#broken ?? new Error('the speech pool is closed'))
      return stream
    }
    if (!stream.closed) (urgent ? this.#urgent : this.#queue).push({ id, job, stream })
    this.#dispatch()
    return stream
  }

  async close(): Promise<void> {
    this.#closed = true
    for (const p of [...this.#urgent.splice(0), ...this.#queue.splice(0)])
      p.stream.fail(new Error('the speech pool is closed'))
    await Promise.all(this.#slots.map((s) => s.worker.terminate()))
  }

  #spawn(): Promise<void> {
    const cancelFlag = new SharedArrayBuffer(4)
    const init: Omit<WorkerInit, 'entry'> = { engines: this.#engines.href, cancelFlag, warm: this.#warm }
    const worker = startWorker(import.meta.url, init)
    const slot: Slot = { worker, flag: new Int32Array(cancelFlag), ready: false, current: undefined }
    this.#slots.push(slot)
    return new Promise<void>((resolve, reject) => {
      worker.on('message', (msg: FromWorker) => {
        if (msg.type === 'ready') {
          slot.ready = true
          this.#bootFailures = 0
          resolve()
          this.#dispatch()
        } else this.#route(slot, msg)
      })
      worker.on('error', () => {}) // 'exit' follows and handles it; without a listener it would throw.
      worker.on('exit', (code) => {
        this.#onExit(slot, code)
        reject(new Error(`speech worker failed to start (exit code ${code})`))
      })
    })
  }

  #route(slot: Slot, msg: Exclude<FromWorker, { type: 'ready' }>): void {
    const pending = slot.current
    if (!pending || pending.id !== msg.id) return
    if (msg.type === 'chunk') return pending.stream.push({ type: 'chunk', pcm: msg.pcm })
    slot.current = undefined
    if (msg.type === 'error') pending.stream.fail(new Error(`speech synthesis failed: ${msg.message}`))
    else {
      const { id: _id, ...done } = msg
      this.#onJobEnd?.(done)
      pending.stream.push(done)
    }
    this.#dispatch()
  }

  /** A worker that dies fails its job (never hangs it) and is replaced. */
  #onExit(slot: Slot, code: number): void {
    this.#slots = this.#slots.filter((s) => s !== slot)
    const pending = slot.current
    slot.current = undefined
    pending?.stream.fail(new Error(`speech worker exited unexpectedly (code ${code})`))
    if (this.#closed) return
    if (!slot.ready && ++this.#bootFailures >= MAX_BOOT_FAILURES) {
      this.#broken = new Error('speech workers keep failing to start')
      for (const p of [...this.#urgent.splice(0), ...this.#queue.splice(0)]) p.stream.fail(this.#broken)
      return
    }
    this.#spawn().catch(() => {})
  }

  #dispatch(): void {
    for (const slot of this.#slots) {
      if (!slot.ready || slot.current) continue
      const next = this.#urgent.shift() ?? this.#queue.shift()
      if (!next) return
      slot.current = next
      const msg: ToWorker = { type: 'job', id: next.id, job: next.job }
      slot.worker.postMessage(msg)
    }
  }

  #cancel(id: number): void {
    for (const queue of [this.#urgent, this.#queue]) {
      const queued = queue.findIndex((p) => p.id === id)
      if (queued >= 0) queue.splice(queued, 1)
    }
    const slot = this.#slots.find((s) => s.current?.id === id)
    if (slot) Atomics.store(slot.flag, 0, id)
  }
}
