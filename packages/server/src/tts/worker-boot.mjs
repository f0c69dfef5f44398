// Source mode only (tests run the TypeScript through tsx): worker threads do not inherit the tsx
// loader from the main thread, so each worker registers it before importing its TypeScript entry
// (workerData.entry). Built JavaScript (dist/tts/worker.js) is started directly; see pool.ts.
import { register } from 'tsx/esm/api'
import { workerData } from 'node:worker_threads'

register()
await import(workerData.entry)
