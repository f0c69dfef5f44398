import { Worker } from 'node:worker_threads'

/**
 * A module next to `base` (an `import.meta.url`) in the form this build runs: `name.ts` from source
 * (tests, through tsx), `name.js` from the compiled `dist/`.
 */
export function sibling(base: string, name: string): URL {
  return new URL(base.endsWith('.ts') ? `./${name}.ts` : `./${name}.js`, base)
}

/**
 * Starts the `worker` module next to `base`. Compiled code starts it directly; from source, worker
 * threads do not inherit tsx's loader, so tts/worker-boot.mjs registers it first and then imports
 * `workerData.entry`. Both speech pools start their threads through here.
 */
export function startWorker(base: string, workerData: Record<string, unknown>): Worker {
  const entry = sibling(base, 'worker')
  const fromSource = base.endsWith('.ts')
  return new Worker(fromSource ? new URL('./tts/worker-boot.mjs', import.meta.url) : entry, {
    workerData: { ...workerData, entry: entry.href },
  })
}
