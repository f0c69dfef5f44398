import { createResampler, type Resampler, type SpeexModule } from '../tts/resample.ts'
import { audioTooLong } from './accepted-audio.ts'
import { floatToInt16 } from './pcm.ts'
import { DECODER_RATE } from './pocketsphinx.ts'

/** A decoded upload: mono 16-bit samples at the recogniser's 16 kHz, in the pieces they were decoded in. */
export interface DecodedAudio {
  chunks: Int16Array[]
  /** The audio's duration: the sum of its decoded pieces' durations, each at its own rate. */
  seconds: number
}

/**
 * Where a decoder's output goes, piece by piece: mixed to mono, resampled to 16 kHz and kept as 16-bit
 * samples, so what an upload holds depends only on its duration (≤ 32 kB a second), never on the rate
 * or channels it declares. Durations are counted as they come, and the piece that passes
 * `maxSeconds` is refused (413 `payload_too_large`) before it is kept: the decoder stops there.
 * `free()` (in a `finally`) releases the resampler's wasm memory.
 */
export class Pcm16kSink {
  readonly #chunks: Int16Array[] = []
  readonly #maxSeconds: number
  readonly #speex: SpeexModule
  #resampler: Resampler | undefined
  #rate = 0
  #seconds = 0
  #expected = 0

  constructor(options: { maxSeconds: number; speex: SpeexModule }) {
    this.#maxSeconds = options.maxSeconds
    this.#speex = options.speex
  }

  /**
   * Counts audio a container says is coming (its frames' durations) before it is decoded: an upload
   * that would pass the cap is refused without decoding that audio at all.
   */
  expect(seconds: number): void {
    this.#expected += seconds
    if (this.#expected > this.#maxSeconds) throw audioTooLong(this.#maxSeconds)
  }

  /** Decoded channels (float, −1..1) of `samples` each at `rate`. */
  addChannels(channels: Float32Array[], samples: number, rate: number): void {
    if (samples <= 0 || channels.length === 0) return
    if (channels.length === 1) return this.addMono(floatToInt16(channels[0]!.subarray(0, samples)), rate)
    const mono = new Float32Array(samples)
    for (const ch of channels) for (let i = 0; i < samples; i++) mono[i]! += (ch[i] ?? 0) / channels.length
    this.addMono(floatToInt16(mono), rate)
  }

  /** Mono 16-bit samples at `rate`, an array of the caller's own that the sink may keep. */
  addMono(pcm: Int16Array, rate: number): void {
    if (pcm.length === 0) return
    this.#seconds += pcm.length / rate
    if (this.#seconds > this.#maxSeconds) throw audioTooLong(this.#maxSeconds)
    if (rate !== this.#rate) this.#switchRate(rate)
    // At 16 kHz already (Opus is decoded at 16 kHz) the samples are kept as they are, not copied.
    this.#keep(this.#resampler ? this.#resampler.push(pcm) : pcm)
  }

  /** The audio so far, with the resampler's tail. */
  finish(): DecodedAudio {
    if (this.#resampler) this.#keep(this.#resampler.flush())
    this.free()
    return { chunks: this.#chunks, seconds: this.#seconds }
  }

  free(): void {
    this.#resampler?.destroy()
    this.#resampler = undefined
    this.#rate = 0
  }

  /** A file whose rate changes (an MP3 may, frame by frame) gets a resampler per run of one rate. */
  #switchRate(rate: number): void {
    if (this.#resampler) this.#keep(this.#resampler.flush())
    this.#resampler?.destroy()
    this.#resampler = rate === DECODER_RATE ? undefined : createResampler(this.#speex, rate, DECODER_RATE)
    this.#rate = rate
  }

  #keep(pcm: Int16Array): void {
    if (pcm.length > 0) this.#chunks.push(pcm)
  }
}
