/**
 * Runs a bench client in a worker thread, so its work does not share the event loop of the server
 * under test. The module at `entry` calls `serveInWorker(key, run)` at load; in the worker that
 * answers each job sent to it, one at a time.
 *
 * A client thread is kept for the next job of the same entry and key (idle, it does not hold the
 * process open). A new thread for every run loaded tsx and the client's modules again, and V8
 * optimised that code on its background threads while the run was being measured, on the two cores
 * the server under test shares: ~0.9 s of TurboFan a run of the streams client (`--trace-opt`,
 * 2026-12-07), at the moment a burst of streams starts, and again in every round of the auth bench.
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads'

type Reply<R> = { id: number; result: R } | { id: number; error: string }

export function serveInWorker<S, R>(key: string, run: (spec: S) => Promise<R>): void {
  if (isMainThread || workerData?.key !== key) return
  const port = parentPort!
  port.on('message', ({ id, spec }: { id: number; spec: S }) => {
    run(spec).then(
      (result) => port.postMessage({ id, result } satisfies Reply<R>),
      (err: unknown) =>
        port.postMessage({ id, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
    )
  })
}

/** Idle client threads by entry and key. */
const idle = new Map<string, Worker[]>()
let nextId = 1

/** The idle list a client thread belongs to. */
const threadName = (entry: string, key: string) => `${entry}#${key}`

function take(entry: string, key: string): Worker {
  const name = threadName(entry, key)
  const kept = idle.get(name)?.pop()
  if (kept) return kept
  // worker-boot.mjs registers tsx in the thread, then imports `entry`.
  const worker = new Worker(new URL('./worker-boot.mjs', import.meta.url), { workerData: { entry, key } })
  worker.on('exit', () => {
    const list = idle.get(name)
    if (list?.includes(worker)) list.splice(list.indexOf(worker), 1)
  })
  return worker
}

export function inWorker<S, R>(entry: string, key: string, spec: S): Promise<R> {
  const name = threadName(entry, key)
  const worker = take(entry, key)
  worker.ref()
  const id = nextId++
  return new Promise<R>((resolve, reject) => {
    const settle = () => {
      worker.off('message', onMessage)
      worker.off('error', onError)
    }
    const onMessage = (reply: Reply<R>) => {
      if (reply.id !== id) return
      settle()
      worker.unref()
      idle.set(name, [...(idle.get(name) ?? []), worker])
      if ('error' in reply) reject(new Error(reply.error))
      else resolve(reply.result)
    }
    // A thread that fails is not kept: its 'exit' takes it off the idle list, if it was there.
    const onError = (err: Error) => {
      settle()
      void worker.terminate()
      reject(err)
    }
    worker.on('message', onMessage)
    worker.on('error', onError)
    worker.postMessage({ id, spec })
  })
}
