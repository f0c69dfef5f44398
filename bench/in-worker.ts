/**
 * Runs a bench client in a worker thread, so its work does not share the event loop of the server
 * under test. The module at `entry` calls `serveInWorker(key, run)` at load; in the worker that
 * answers the one job it was started for.
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads'

export function serveInWorker<S, R>(key: string, run: (spec: S) => Promise<R>): void {
  if (isMainThread || workerData?.key !== key) return
  run(workerData.spec as S).then((r) => parentPort!.postMessage(r))
}

export function inWorker<S, R>(entry: string, key: string, spec: S): Promise<R> {
  return new Promise((resolve, reject) => {
    // worker-boot.mjs registers tsx in the thread, then imports `entry`.
    const w = new Worker(new URL('./worker-boot.mjs', import.meta.url), { workerData: { entry, key, spec } })
    w.once('message', (r: R) => {
      void w.terminate()
      resolve(r)
    })
    w.once('error', reject)
  })
}
