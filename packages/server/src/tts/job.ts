import { CutSilence, type CutEnds } from './cut-silence.ts'
import type { Engine, EngineId, EnginePhoneme, EngineWord } from './engine.ts'
import { applyGain } from './gain.ts'
import { estimatePhonemes } from './phonemes.ts'
import { createResampler, type SpeexModule } from './resample.ts'

/**
 * The longest audio in one chunk of a stream, and the length a speech worker hands a job's audio on in
 * after its first chunk (worker.ts): every chunk costs the same whatever its length (a message to the
 * server's thread, an event or frame, a TLS write, the client's parse).
 */
export const CHUNK_SECONDS = 0.25

/** One sentence to synthesize, as sent to a worker (structured-clone friendly). */
export interface SentenceJob {
  engine: EngineId
  voice: string
  text: string
  speed: number
  /** Gain applied to the audio after synthesis (Cartesia `volume`), 1 = as synthesized. */
  volume?: number
  pitch?: number
  /** Output rate: the worker resamples, so only audio at the requested rate crosses threads. */
  sampleRate: number
  /** Which ends of `text` are a cut inside its sentence, where the engine's pause is trimmed (cut-silence.ts). */
  cut?: CutEnds
}

export interface JobDone {
  type: 'done'
  words: EngineWord[]
  /** The engine's phonemes, or an estimate from `words` for an engine that gives none. */
  phonemes: EnginePhoneme[]
  cancelled: boolean
  nativeRate: number
  nativeSamples: number
  samples: number
  /** Engine time from the start of synthesis to its first audio, and to its end (worker clock). */
  firstChunkMs: number
  totalMs: number
}

export type JobEvent = { type: 'chunk'; pcm: Int16Array } | JobDone

export type EngineSet = Partial<Record<EngineId, Engine>>

/**
 * Runs one sentence: engine → resampler → `emit`, checking `isCancelled` at every engine chunk so a
 * cancel reaches a sentence in progress. The resampler lives for one sentence only: each sentence
 * starts and ends in silence, so restarting the filter there leaves no audible seam, and a request's
 * sentences may then go to different workers.
 */
export function runJob(
  engines: EngineSet,
  speex: SpeexModule,
  job: SentenceJob,
  isCancelled: () => boolean,
  emit: (e: JobEvent) => void,
): void {
  const engine = engines[job.engine]
  if (!engine) throw new Error(`engine ${job.engine} is not loaded`)
  const started = performance.now()
  let firstChunkMs = -1
  let nativeSamples = 0
  let samples = 0
  let cancelled = false
  const words: EngineWord[] = []
  const phonemes: EnginePhoneme[] = []
  const gain = job.volume ?? 1
  const resampler = createResampler(speex, engine.sampleRate, job.sampleRate)
  const cut = job.cut ? new CutSilence(job.cut, engine.sampleRate) : undefined
  const send = (pcm: Int16Array) => {
    if (pcm.length === 0) return
    samples += pcm.length
    emit({ type: 'chunk', pcm: applyGain(pcm, gain) })
  }
  try {
    const { sampleRate } = engine.synth(
      job.text,
      { voice: job.voice, speed: job.speed, ...(job.pitch !== undefined && { pitch: job.pitch }) },
      (pcm, w, p) => {
        if (firstChunkMs < 0 && pcm.length > 0) firstChunkMs = performance.now() - started
        if (w) words.push(...w)
        if (p) phonemes.push(...p)
        cancelled = isCancelled()
        if (cancelled) return true
        const audio = cut ? cut.push(pcm) : pcm
        nativeSamples += audio.length
        send(resampler.push(audio))
        return false
      },
    )
    // Every catalogued voice speaks at its engine's usual rate (flite's 8 kHz `kal` is not offered).
    if (sampleRate !== engine.sampleRate)
      throw new Error(`engine ${job.engine} produced ${sampleRate} Hz, expected ${engine.sampleRate}`)
    if (!cancelled && cut) {
      const tail = cut.flush()
      nativeSamples += tail.length
      send(resampler.push(tail))
    }
    if (!cancelled) send(resampler.flush())
    if (phonemes.length === 0) phonemes.push(...estimatePhonemes(words))
    const timed = cut && retime(cut.droppedStart, nativeSamples, sampleRate)
    emit({
      type: 'done',
      words: timed ? words.map(timed) : words,
      phonemes: timed ? phonemes.map(timed) : phonemes,
      cancelled,
      nativeRate: sampleRate,
      nativeSamples,
      samples,
      firstChunkMs: Math.max(0, firstChunkMs),
      totalMs: performance.now() - started,
    })
  } finally {
    resampler.destroy()
  }
}

/**
 * Timings of a job whose leading pause lost `dropped` samples: moved back as far, and kept within the
 * `length` samples the job's audio has after its trims.
 */
function retime(dropped: number, length: number, rate: number) {
  const shift = (dropped * 1000) / rate
  const end = (length * 1000) / rate
  const at = (ms: number) => Math.min(end, Math.max(0, ms - shift))
  return <T extends { startMs: number; endMs: number }>(x: T): T => ({
    ...x,
    startMs: at(x.startMs),
    endMs: at(x.endMs),
  })
}
