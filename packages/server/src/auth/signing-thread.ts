import type { KeyObject } from 'node:crypto'
import type { Worker } from 'node:worker_threads'
import { startWorker } from '../workers.ts'

/** What the signing thread is sent: the batch's keys, then `[index into keys, signing input]` pairs. */
export interface SignBatch {
  keys: KeyObject[]
  items: [number, string][]
}

/** A base64url signature, or why there is none. */
export type SignResult = string | { error: string; code?: string }

/** A batch is sent at the end of the event loop's turn, or sooner once it holds this many. */
const BATCH_MAX = 256

interface Pending {
  resolve: (signature: string) => void
  reject: (err: Error) => void
}

/**
 * Ed25519 signatures on one thread of their own, fed in batches: every signature asked for in one
 * turn of the event loop goes in one message, and comes back in one. Handing each signature to
 * libuv's pool instead costs the event loop a work item, a wake of a sleeping pool thread and a
 * completion per mint (~20–40 µs of its thread a mint under perf, the most of what a mint spent beyond
 * `GET /` once the signature had left the thread); a batch pays one message each way for them all.
 *
 * The thread is started on the first signature and holds the process open only while a signature is
 * owed. If it dies, what it owed is refused and the next signature starts another. Each batch carries
 * its keys (a KeyObject crosses threads as a handle on the same key; the same process, so no new place
 * holds it), and the thread keeps none between batches: a key the ring has dropped lives nowhere else.
 */
export class SigningThread {
  #worker: Worker | undefined
  /** The batch being built: each signature's key, input and promise. */
  #batch: { key: KeyObject; input: string; pending: Pending }[] = []
  #flushScheduled = false
  /** Sent batches not answered yet, oldest first (the thread answers in order). */
  readonly #sent: Pending[][] = []

  /** The base64url Ed25519 signature of `input`; a key that cannot sign rejects. */
  sign(key: KeyObject, input: string): Promise<string> {
    return new Promise((resolve, reject) => {
      this.#batch.push({ key, input, pending: { resolve, reject } })
      if (this.#batch.length >= BATCH_MAX) this.#flush()
      else if (!this.#flushScheduled) {
        this.#flushScheduled = true
        setImmediate(() => this.#flush())
      }
    })
  }

  #flush(): void {
    this.#flushScheduled = false
    if (this.#batch.length === 0) return
    const worker = this.#thread()
    const message: SignBatch = { keys: [], items: [] }
    for (const { key, input } of this.#batch) {
      // A batch names a key or two (a rotation in the middle of one): a scan beats a map.
      let i = message.keys.indexOf(key)
      if (i < 0) i = message.keys.push(key) - 1
      message.items.push([i, input])
    }
    if (this.#sent.length === 0) worker.ref()
    this.#sent.push(this.#batch.map((b) => b.pending))
    this.#batch = []
    worker.postMessage(message)
  }

  #thread(): Worker {
    if (this.#worker) return this.#worker
    const worker = startWorker(import.meta.url, {}, 'signing-worker')
    worker.unref()
    worker.on('message', (results: SignResult[]) => this.#answered(results))
    worker.on('error', () => undefined) // the exit that follows refuses what was owed
    worker.on('exit', () => this.#lost(worker))
    this.#worker = worker
    return worker
  }

  #answered(results: SignResult[]): void {
    const pending = this.#sent.shift() ?? []
    if (this.#sent.length === 0) this.#worker?.unref()
    for (const [i, p] of pending.entries()) {
      const r = results[i]
      if (typeof r === 'string') p.resolve(r)
      else
        p.reject(
          Object.assign(new Error(r?.error ?? 'the signing thread gave no signature'), r?.code && { code: r.code }),
        )
    }
  }

  /** The thread is gone: what it owed is refused, and the next batch starts another. */
  #lost(worker: Worker): void {
    if (this.#worker !== worker) return
    this.#worker = undefined
    for (const p of this.#sent.splice(0).flat()) p.reject(new Error('the signing thread stopped before it signed'))
  }
}
