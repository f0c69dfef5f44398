// Worker threads do not inherit the tsx loader from `register()` in the main thread, so each worker
// registers it before importing its TypeScript entry (workerData.entry).
import { register } from 'tsx/esm/api'
import { workerData } from 'node:worker_threads'

register()
await import(workerData.entry)
