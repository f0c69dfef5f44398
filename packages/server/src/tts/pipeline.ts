import {
  SAMPLE_RATE_MAX,
  SAMPLE_RATE_MIN,
  VoxgateError,
  type PhonemeTimestamps,
  type WordTimestamps,
} from '@voxgate/protocol'
import type { CutEnds } from './cut-silence.ts'
import type { EngineId, EnginePhoneme, EngineWord } from './engine.ts'
import { openEncoder } from './encode.ts'
import { CHUNK_SECONDS, type SentenceJob } from './job.ts'
import type { JobStream, SentenceRunner } from './job-stream.ts'
import { resolveVoice } from './language.ts'
import { planSteps, type Step } from './first-segment.ts'
import { clampGain, clampSpeed, planUnits, type SpeechUnit } from './plan.ts'
import type { SynthesisChunk, SynthesisRequest } from './types.ts'
import type { VoiceEntry } from './voice-table.ts'

const EMPTY = new Uint8Array(0)

export interface PipelineDeps {
  runner: SentenceRunner
  entry(voiceId: string): VoiceEntry | undefined
}

/** What markup asks of one sentence on top of the request's own settings. */
export type SentenceMarkup = Pick<SpeechUnit, 'speed' | 'volume'>

/** How a request's sentences become engine jobs: its engine, and the job for each sentence. */
export interface JobPlan {
  engine: EngineId
  job(text: string, markup?: SentenceMarkup, cut?: CutEnds): SentenceJob
}

/** The engine job for each sentence of a request, or a coded error for what the transport missed. */
export function planJobs(deps: PipelineDeps, request: SynthesisRequest, sampleRate: number): JobPlan {
  const entry = deps.entry(request.voiceId)
  if (!entry) throw new VoxgateError('voice_not_found', 'No voice has this id.')
  if (!Number.isInteger(sampleRate) || sampleRate < SAMPLE_RATE_MIN || sampleRate > SAMPLE_RATE_MAX) {
    throw new VoxgateError(
      'unsupported_output_format',
      `sample_rate must be an integer from ${SAMPLE_RATE_MIN} to ${SAMPLE_RATE_MAX}.`,
    )
  }
  const { engine, voice } = resolveVoice(entry, request.language, request.locale)
  // Cartesia's ranges; the transports already map their speed fields into them, markup multiplies.
  const speed = clampSpeed(request.speed ?? 1)
  const volume = clampGain(request.volume ?? 1)
  const job = (text: string, markup?: SentenceMarkup, cut?: CutEnds): SentenceJob => {
    const gain = clampGain(volume * (markup?.volume ?? 1))
    return {
      engine,
      voice,
      text,
      speed: clampSpeed(speed * (markup?.speed ?? 1)),
      ...(gain !== 1 && { volume: gain }),
      sampleRate,
      ...(cut && { cut }),
    }
  }
  return { engine, job }
}

function* slices(pcm: Int16Array, max: number): Generator<Int16Array> {
  for (let at = 0; at < pcm.length; at += max) yield pcm.subarray(at, at + max)
}

const seconds = (offsetSeconds: number, ms: number) => Math.round((offsetSeconds + ms / 1000) * 1e6) / 1e6

/** Engine words (ms within a sentence) as Cartesia timestamps (seconds within the request). */
function timestamps(words: EngineWord[], offsetSeconds: number): WordTimestamps {
  const s = (ms: number) => seconds(offsetSeconds, ms)
  return { words: words.map((w) => w.text), start: words.map((w) => s(w.startMs)), end: words.map((w) => s(w.endMs)) }
}

/** Engine phonemes as Cartesia phoneme timestamps, clipped to the sentence's audio. */
function phonemeTimestamps(phonemes: EnginePhoneme[], offsetSeconds: number, audioMs: number): PhonemeTimestamps {
  const s = (ms: number) => seconds(offsetSeconds, Math.min(ms, audioMs))
  return {
    phonemes: phonemes.map((p) => p.text),
    start: phonemes.map((p) => s(p.startMs)),
    end: phonemes.map((p) => s(p.endMs)),
  }
}

/** The word timestamps of a sentence's parts (its first may be cut in two) as one event's. */
function joinWords(parts: WordTimestamps[]): WordTimestamps | undefined {
  if (parts.length <= 1) return parts[0]
  return {
    words: parts.flatMap((p) => p.words),
    start: parts.flatMap((p) => p.start),
    end: parts.flatMap((p) => p.end),
  }
}

function joinPhonemes(parts: PhonemeTimestamps[]): PhonemeTimestamps | undefined {
  if (parts.length <= 1) return parts[0]
  const joined = (k: 'start' | 'end') => parts.flatMap((p) => p[k])
  return { phonemes: parts.flatMap((p) => p.phonemes), start: joined('start'), end: joined('end') }
}

/**
 * Text → markup and sentences → engine jobs (in order) and silence for breaks → encoded chunks.
 * The first sentence of a stream goes to the engine as a short head and its rest (first-segment.ts),
 * so the first audio waits for a few words only; the rest is as urgent as the head (its listener is
 * already listening), later sentences are look-ahead. Synthesis stays at most one job ahead of the consumer:
 * job i+1 starts once job i has produced its first audio (so the first job has the cores to itself
 * until its first audio is made), and i+2 only once the consumer has pulled all of i. Ending the
 * iteration or aborting `signal` cancels every started job (in a worker, mid-sentence) and releases
 * the encoder.
 */
export async function* synthesize(
  deps: PipelineDeps,
  request: SynthesisRequest,
  signal?: AbortSignal,
): AsyncGenerator<SynthesisChunk> {
  // Markup is an instruction, never text to read aloud: engines get sentences, breaks become silence.
  const units = planUnits(request.text)
  request.progress?.planned(units.map((u) => (u.kind === 'speech' ? u.source : '')))
  if (units.length === 0) return
  signal?.throwIfAborted()
  const encoder = await openEncoder(request.outputFormat)
  const started: JobStream[] = []
  try {
    const rate = encoder.sampleRate
    const plan = planJobs(deps, request, rate)
    const steps = planSteps(units, { cutFirst: (request.timeOffsetSeconds ?? 0) === 0, engine: plan.engine })
    const start = (i: number, urgent: boolean) => {
      const step = steps[i] as Extract<Step, { kind: 'speech' }>
      request.progress?.started(step.unit)
      const stream = deps.runner.start(plan.job(step.text, step.markup, step.cut), signal, { urgent })
      started.push(stream)
      return stream
    }
    const nextSpeech = (from: number) => steps.findIndex((s, i) => i >= from && s.kind === 'speech')
    let header = encoder.header()
    const withHeader = (audio: Uint8Array) => {
      if (header.length === 0) return audio
      const out = new Uint8Array(header.length + audio.length)
      out.set(header)
      out.set(audio, header.length)
      header = EMPTY
      return out
    }
    // Speech workers hand audio on in pieces this long, but several at once (flite gives a whole sentence).
    const maxChunk = Math.max(1, Math.round(rate * CHUNK_SECONDS))
    let emitted = 0
    const first = nextSpeech(0)
    let next: { index: number; stream: JobStream } | undefined =
      first >= 0 ? { index: first, stream: start(first, true) } : undefined
    // The timestamps of a sentence's parts so far: one event per sentence, after its last part.
    let words: WordTimestamps[] = []
    let phonemes: PhonemeTimestamps[] = []
    for (let i = 0; i < steps.length; i++) {
      const step = steps[i]!
      if (step.kind === 'break') {
        request.progress?.started(step.unit)
        // Silence at the output rate, exactly as long as asked (not the engine's own pause).
        const silence = new Int16Array(Math.round((step.ms * rate) / 1000))
        for (const piece of slices(silence, maxChunk)) {
          signal?.throwIfAborted()
          emitted += piece.length
          yield { audio: withHeader(encoder.encode(piece)), durationSeconds: piece.length / rate }
        }
        continue
      }
      const current: JobStream = next?.index === i ? next.stream : start(i, true)
      next = undefined
      const startNext = () => {
        const j = nextSpeech(i + 1)
        // The rest of a cut sentence is what its listener, already hearing the head, waits for next.
        const rest = steps[j]?.unit === step.unit
        if (next === undefined && j >= 0) next = { index: j, stream: start(j, rest) }
      }
      const offsetSeconds = (request.timeOffsetSeconds ?? 0) + emitted / rate
      const partStart = emitted
      for await (const event of current) {
        // Audio already synthesized and queued is dropped once the request is aborted.
        signal?.throwIfAborted()
        startNext()
        if (event.type === 'chunk') {
          for (const piece of slices(event.pcm, maxChunk)) {
            emitted += piece.length
            yield { audio: withHeader(encoder.encode(piece)), durationSeconds: piece.length / rate }
          }
          continue
        }
        if (request.timestamps && event.words.length > 0) words.push(timestamps(event.words, offsetSeconds))
        if (request.phonemeTimestamps && event.phonemes.length > 0) {
          const audioMs = ((emitted - partStart) * 1000) / rate
          phonemes.push(phonemeTimestamps(event.phonemes, offsetSeconds, audioMs))
        }
      }
      startNext()
      if (!step.last) continue
      const sentenceWords = joinWords(words)
      if (sentenceWords) yield { audio: withHeader(EMPTY), words: sentenceWords, durationSeconds: 0 }
      const sentencePhonemes = joinPhonemes(phonemes)
      if (sentencePhonemes) yield { audio: withHeader(EMPTY), phonemes: sentencePhonemes, durationSeconds: 0 }
      words = []
      phonemes = []
    }
    const tail = encoder.finish()
    if (tail.length > 0 || header.length > 0) yield { audio: withHeader(tail), durationSeconds: 0 }
  } finally {
    for (const stream of started) stream.cancel()
    encoder.release()
  }
}
