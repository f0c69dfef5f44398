import { SAMPLE_RATE_MAX, SAMPLE_RATE_MIN, stripMarkup, VoxgateError, type WordTimestamps } from '@voxgate/protocol'
import type { EngineWord } from './engine.ts'
import { openEncoder } from './encode.ts'
import type { SentenceJob } from './job.ts'
import type { JobStream, SentenceRunner } from './job-stream.ts'
import { resolveVoice } from './language.ts'
import { splitSentences } from './split.ts'
import type { SynthesisChunk, SynthesisRequest } from './types.ts'
import type { VoiceEntry } from './voice-table.ts'

/** Longest audio in one chunk: flite hands over a whole sentence, which would make one huge frame. */
const MAX_CHUNK_SECONDS = 0.25
const EMPTY = new Uint8Array(0)
const SPEED_MIN = 0.6
const SPEED_MAX = 1.5

export interface PipelineDeps {
  runner: SentenceRunner
  entry(voiceId: string): VoiceEntry | undefined
}

/** The engine job for each sentence of a request, or a coded error for what the transport missed. */
export function planJobs(deps: PipelineDeps, request: SynthesisRequest, sampleRate: number): (text: string) => SentenceJob {
  const entry = deps.entry(request.voiceId)
  if (!entry) throw new VoxgateError('voice_not_found', 'No voice has this id.')
  if (!Number.isInteger(sampleRate) || sampleRate < SAMPLE_RATE_MIN || sampleRate > SAMPLE_RATE_MAX) {
    throw new VoxgateError('unsupported_output_format', `sample_rate must be an integer from ${SAMPLE_RATE_MIN} to ${SAMPLE_RATE_MAX}.`)
  }
  const { engine, voice } = resolveVoice(entry, request.language)
  // Cartesia's range; the transports already map their three speed fields into it.
  const speed = Math.min(SPEED_MAX, Math.max(SPEED_MIN, request.speed ?? 1))
  return (text) => ({ engine, voice, text, speed, sampleRate })
}

function* slices(pcm: Int16Array, max: number): Generator<Int16Array> {
  for (let at = 0; at < pcm.length; at += max) yield pcm.subarray(at, at + max)
}

/** Engine words (ms within a sentence) as Cartesia timestamps (seconds within the request). */
function timestamps(words: EngineWord[], offsetSeconds: number): WordTimestamps {
  const s = (ms: number) => Math.round((offsetSeconds + ms / 1000) * 1e6) / 1e6
  return { words: words.map((w) => w.text), start: words.map((w) => s(w.startMs)), end: words.map((w) => s(w.endMs)) }
}

/**
 * Text → sentences → engine jobs (in order) → encoded chunks. Synthesis stays at most one sentence
 * ahead of the consumer: sentence i+1 starts once sentence i has produced its first audio (so the
 * first sentence has the cores to itself until its first byte is out), and i+2 only once the
 * consumer has pulled all of i. Ending the iteration or aborting `signal` cancels every started job (in a
 * worker, mid-sentence) and releases the encoder.
 */
export async function* synthesize(deps: PipelineDeps, request: SynthesisRequest, signal?: AbortSignal): AsyncGenerator<SynthesisChunk> {
  // Sonic-3 markup is an instruction, never text to read aloud (honouring the tags is the engines' job).
  const sentences = splitSentences(stripMarkup(request.text))
  request.progress?.planned(sentences)
  if (sentences.length === 0) return
  signal?.throwIfAborted()
  const encoder = await openEncoder(request.outputFormat)
  const started: JobStream[] = []
  try {
    const rate = encoder.sampleRate
    const jobFor = planJobs(deps, request, rate)
    const start = (i: number, urgent: boolean) => {
      request.progress?.started(i)
      const stream = deps.runner.start(jobFor(sentences[i] ?? ''), signal, { urgent })
      started.push(stream)
      return stream
    }
    let header = encoder.header()
    const withHeader = (audio: Uint8Array) => {
      if (header.length === 0) return audio
      const out = new Uint8Array(header.length + audio.length)
      out.set(header)
      out.set(audio, header.length)
      header = EMPTY
      return out
    }
    const maxChunk = Math.max(1, Math.round(rate * MAX_CHUNK_SECONDS))
    let emitted = 0
    let next: JobStream | undefined = start(0, true)
    for (let i = 0; i < sentences.length; i++) {
      const current: JobStream = next ?? start(i, true)
      next = undefined
      const startNext = () => {
        if (next === undefined && i + 1 < sentences.length) next = start(i + 1, false)
      }
      const offsetSeconds = (request.timeOffsetSeconds ?? 0) + emitted / rate
      for await (const event of current) {
        // Audio already synthesized and queued is dropped once the request is aborted.
        signal?.throwIfAborted()
        startNext()
        if (event.type === 'chunk') {
          for (const piece of slices(event.pcm, maxChunk)) {
            emitted += piece.length
            yield { audio: withHeader(encoder.encode(piece)), durationSeconds: piece.length / rate }
          }
        } else if (request.timestamps && event.words.length > 0) {
          yield { audio: withHeader(EMPTY), words: timestamps(event.words, offsetSeconds), durationSeconds: 0 }
        }
      }
      startNext()
    }
    const tail = encoder.finish()
    if (tail.length > 0 || header.length > 0) yield { audio: withHeader(tail), durationSeconds: 0 }
  } finally {
    for (const stream of started) stream.cancel()
    encoder.release()
  }
}
