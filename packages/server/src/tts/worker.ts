import { parentPort, workerData } from 'node:worker_threads'
import type { EnginesModule } from './engines.ts'
import { CHUNK_SECONDS, runJob, type EngineSet, type JobEvent, type SentenceJob } from './job.ts'
import { PcmPieces } from './pcm.ts'
import { loadSpeex } from './resample.ts'
import { VOICE_ENTRIES } from './voice-table.ts'

export interface WorkerInit {
  entry: string
  /** URL of the engines module to load (`engines.ts`, or a test's). */
  engines: string
  /** Int32[0] holds the id of the job to cancel; read with Atomics.load at every engine chunk. */
  cancelFlag: SharedArrayBuffer
  warm: boolean
}

export type ToWorker = { type: 'job'; id: number; job: SentenceJob }
export type FromWorker =
  | { type: 'ready' }
  | { type: 'chunk'; id: number; pcm: Int16Array }
  | ({ id: number } & Extract<JobEvent, { type: 'done' }>)
  | { type: 'error'; id: number; message: string }

const WARM_SENTENCES = [
  'The quick brown fox jumps over the lazy dog.',
  'Access tokens let a browser speak without ever seeing the API key.',
  'Numbers like 42 and 1999 are read aloud too.',
  'Is this the fourth sentence? Yes, it is!',
  'Warm engines answer quickly.',
]

type Warm = (engine: 'espeak' | 'flite', voice: string, text: string, sampleRate?: number) => void

/** JIT warm-up before the worker is ready: the first few syntheses in a thread are 10x slower. */
function warmCore(warm: Warm): void {
  WARM_SENTENCES.forEach((text, i) => warm('espeak', 'en-us', text, i % 2 === 0 ? 24000 : 8000))
  warm('flite', 'slt', WARM_SENTENCES[0] ?? '')
}

/**
 * espeak loads each language's data on first use (tens of ms). Doing that for every catalogued voice
 * before "ready" made boot take seconds, so it runs after, one voice per event-loop turn: a job that
 * arrives waits for at most one short warm-up sentence.
 */
function warmVoicesWhenIdle(warm: Warm): void {
  const pending = [...VOICE_ENTRIES]
  const step = () => {
    const next = pending.shift()
    if (!next) return
    warm(next.engine, next.engineVoice, 'One, two.')
    setImmediate(step)
  }
  setImmediate(step)
}

const port = parentPort
if (!port) throw new Error('worker.ts runs in a worker thread')
const init = workerData as WorkerInit
const cancelFlag = new Int32Array(init.cancelFlag)
const speex = await loadSpeex()
const engines: EngineSet = await ((await import(init.engines)) as EnginesModule).createEngines()
const warm: Warm = (engine, voice, text, sampleRate = 24000) =>
  runJob(
    engines,
    speex,
    { engine, voice, text, speed: 1, sampleRate },
    () => false,
    () => {},
  )
if (init.warm) warmCore(warm)

/**
 * A job's first audio goes to the server at once; after it, audio goes in whole CHUNK_SECONDS pieces.
 * eSpeak calls back every ~90 ms of audio, and passing each call on made three times the messages,
 * events, frames and TLS writes, each costing the same whatever its length: under a burst of streams
 * that work took the cores the engines needed for other streams' first audio. The engines here run a
 * sentence to its end in one synchronous call (a few ms), so holding a piece back delays nothing a
 * listener waits for: the rest of the sentence follows within that call.
 */
port.on('message', (msg: ToWorker) => {
  const { id, job } = msg
  const pieces = new PcmPieces(Math.round(job.sampleRate * CHUNK_SECONDS))
  let first = true
  const chunk = (pcm: Int16Array | undefined) => {
    if (!pcm) return
    port.postMessage({ type: 'chunk', id, pcm } satisfies FromWorker, [pcm.buffer as ArrayBuffer])
  }
  const post = (e: JobEvent) => {
    if (e.type === 'chunk') {
      chunk(first ? e.pcm : pieces.push(e.pcm))
      first = false
      return
    }
    if (!e.cancelled) chunk(pieces.flush())
    port.postMessage({ ...e, id } satisfies FromWorker)
  }
  try {
    runJob(engines, speex, job, () => Atomics.load(cancelFlag, 0) === id, post)
  } catch (err) {
    port.postMessage({
      type: 'error',
      id,
      message: err instanceof Error ? err.message : String(err),
    } satisfies FromWorker)
  }
})
port.postMessage({ type: 'ready' } satisfies FromWorker)
if (init.warm) warmVoicesWhenIdle(warm)
