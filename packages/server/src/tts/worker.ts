import { parentPort, workerData } from 'node:worker_threads'
import { createDeterministicEngine } from './engine-deterministic.ts'
import { createEspeakEngine } from './engine-espeak.ts'
import { createFliteEngine } from './engine-flite.ts'
import { runJob, type EngineSet, type JobEvent, type SentenceJob } from './job.ts'
import { loadSpeex, type SpeexModule } from './resample.ts'
import { VOICE_ENTRIES } from './voice-table.ts'

export interface WorkerInit {
  entry: string
  /** Int32[0] holds the id of the job to cancel; read with Atomics.load at every engine chunk. */
  cancelFlag: SharedArrayBuffer
  warm: boolean
}

export type ToWorker = { type: 'job'; id: number; job: SentenceJob; crashForTest?: boolean }
export type FromWorker =
  | { type: 'ready' }
  | { type: 'chunk'; id: number; pcm: Int16Array }
  | ({ id: number } & Extract<JobEvent, { type: 'done' }>)
  | { type: 'error'; id: number; message: string }

/**
 * JIT warm-up: the first few syntheses in a thread are 10x slower than steady state, and espeak loads
 * each language's data on first use, so every catalogued voice speaks once before the worker is ready.
 */
const WARM_SENTENCES = [
  'The quick brown fox jumps over the lazy dog.',
  'Access tokens let a browser speak without ever seeing the API key.',
  'Numbers like 42 and 1999 are read aloud too.',
  'Is this the fourth sentence? Yes, it is!',
  'Warm engines answer quickly.',
]

function warmUp(engines: EngineSet, speex: SpeexModule): void {
  const run = (engine: 'espeak' | 'flite', voice: string, text: string, sampleRate = 24000) =>
    runJob(engines, speex, { engine, voice, text, speed: 1, sampleRate }, () => false, () => {})
  WARM_SENTENCES.forEach((text, i) => run('espeak', 'en-us', text, i % 2 === 0 ? 24000 : 8000))
  run('flite', 'slt', WARM_SENTENCES[0] ?? '')
  for (const { engine, engineVoice } of VOICE_ENTRIES) run(engine, engineVoice, 'One, two.')
}

const port = parentPort
if (!port) throw new Error('worker.ts runs in a worker thread')
const init = workerData as WorkerInit
const cancelFlag = new Int32Array(init.cancelFlag)
const speex = await loadSpeex()
const engines: EngineSet = {
  espeak: await createEspeakEngine(),
  flite: await createFliteEngine(),
  deterministic: createDeterministicEngine(),
}
if (init.warm) warmUp(engines, speex)

port.on('message', (msg: ToWorker) => {
  const { id, job } = msg
  // Test hook: die with a job in flight, as a crashing engine would.
  if (msg.crashForTest) process.exit(70)
  const post = (e: JobEvent) => {
    if (e.type === 'chunk') port.postMessage({ type: 'chunk', id, pcm: e.pcm } satisfies FromWorker, [e.pcm.buffer as ArrayBuffer])
    else port.postMessage({ ...e, id } satisfies FromWorker)
  }
  try {
    runJob(engines, speex, job, () => Atomics.load(cancelFlag, 0) === id, post)
  } catch (err) {
    port.postMessage({ type: 'error', id, message: err instanceof Error ? err.message : String(err) } satisfies FromWorker)
  }
})
port.postMessage({ type: 'ready' } satisfies FromWorker)
