import { Mp3Frames } from './mp3-frames.ts'
import { type ChangerFormat, PCM_WIDTHS } from './output-format.ts'
import { readWavHeader } from './wav-header.ts'

/** Measures the audio of an upstream answer as it passes. */
export interface AnswerMeter {
  push(chunk: Buffer): void
  /** Milliseconds of audio so far, or undefined when the answer is not one voxgate can measure. */
  readonly ms: number | undefined
}

const WAV_TYPES = new Set(['audio/wav', 'audio/x-wav', 'audio/wave', 'audio/vnd.wave'])
const MP3_TYPES = new Set(['audio/mpeg', 'audio/mp3'])

/**
 * The meter for what the upstream actually sends, chosen by its Content-Type: a WAV is sized from
 * its own header, an MP3 from its frames; anything else is PCM in the format voxgate checked and
 * forwarded (raw PCM carries nothing else to read). An answer in none of these is unmeasurable.
 */
export function answerMeter(contentType: string | undefined, format: ChangerFormat): AnswerMeter {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase()
  if (WAV_TYPES.has(type)) return new WavMeter()
  if (MP3_TYPES.has(type)) return new Mp3Frames()
  if (format.container === 'raw') return pcmMeter(PCM_WIDTHS[format.encoding]! * format.sampleRate)
  return { push: () => undefined, ms: undefined }
}

/** Headerless PCM: bytes over bytes per second. */
export function pcmMeter(bytesPerSecond: number): AnswerMeter {
  let bytes = 0
  return {
    push: (chunk) => {
      bytes += chunk.length
    },
    get ms() {
      return (bytes * 1000) / bytesPerSecond
    },
  }
}

/** A WAV header is read from at most this many first bytes; one longer is not measured. */
const MAX_WAV_HEADER = 64 * 1024

/** A WAV answer: its header's rate, channels and width; every byte after the `data` chunk starts is audio. */
class WavMeter implements AnswerMeter {
  #head: Buffer = Buffer.alloc(0)
  #audio: AnswerMeter | undefined
  #unmeasurable = false

  push(chunk: Buffer): void {
    if (this.#audio) return this.#audio.push(chunk)
    if (this.#unmeasurable) return
    this.#head = Buffer.concat([this.#head, chunk])
    const header = readWavHeader(this.#head)
    if (header.kind === 'pcm') {
      this.#audio = pcmMeter(header.wav.bytesPerSecond)
      this.#audio.push(this.#head.subarray(header.wav.dataOffset))
    } else if (header.kind === 'other' || this.#head.length > MAX_WAV_HEADER) this.#unmeasurable = true
    if (this.#audio || this.#unmeasurable) this.#head = Buffer.alloc(0)
  }

  get ms(): number | undefined {
    if (this.#audio) return this.#audio.ms
    return this.#unmeasurable ? undefined : 0
  }
}
