import type { SttWord } from '@voxgate/protocol'
import { createResampler, type Resampler, type SpeexModule } from '../tts/resample.ts'
import type { FinalReason } from './messages.ts'
import { cleanWord, DECODER_RATE, FRAME_SECONDS, type Decoder } from './pocketsphinx.ts'

/** Audio goes to the decoder in 100 ms blocks: partials and voice activity are checked after each. */
const BLOCK = DECODER_RATE / 10

export interface SessionEvents {
  speechStart(): void
  partial(text: string): void
  final(words: SttWord[], reason: FinalReason, seconds: number): void
}

/**
 * One stream's recognition on a warm decoder (worker side): resampling to 16 kHz, 100 ms blocks,
 * partials when the hypothesis changes, a final whenever the voice-activity detector sees speech end,
 * and on demand. Word times count from the session's first sample.
 */
export class RecognitionSession {
  #pending = new Int16Array(0)
  #inSpeech = false
  #lastPartial = ''
  readonly #resampler: Resampler
  /** The decoder's frame count where this session began (its frames count across sessions). */
  readonly #firstFrame: number
  #samples = 0

  constructor(
    private readonly decoder: Decoder,
    speex: SpeexModule,
    private readonly inRate: number,
    private readonly events: SessionEvents,
  ) {
    this.#resampler = createResampler(speex, inRate, DECODER_RATE)
    decoder.resetState()
    this.#firstFrame = decoder.framesFed
    decoder.startUtterance()
  }

  /** Seconds of audio received so far. */
  get seconds(): number {
    return this.#samples / this.inRate
  }

  push(samples: Int16Array): void {
    this.#samples += samples.length
    this.#feed(this.#resampler.push(samples), false)
  }

  /** Ends the utterance now: its final, even an empty one, is reported with `reason`. */
  finalize(reason: FinalReason): void {
    if (reason === 'end') this.#feed(this.#resampler.flush(), true)
    else this.#feed(new Int16Array(0), true)
    this.#endUtterance(reason)
    if (reason === 'end') this.#resampler.destroy()
    else this.decoder.startUtterance()
  }

  #feed(audio: Int16Array, all: boolean): void {
    const joined = new Int16Array(this.#pending.length + audio.length)
    joined.set(this.#pending)
    joined.set(audio, this.#pending.length)
    let at = 0
    for (; joined.length - at >= BLOCK || (all && at < joined.length); at += BLOCK)
      this.#block(joined.subarray(at, at + BLOCK))
    this.#pending = joined.slice(Math.min(at, joined.length))
  }

  #block(block: Int16Array): void {
    this.decoder.process(block)
    const inSpeech = this.decoder.inSpeech()
    if (inSpeech && !this.#inSpeech) this.events.speechStart()
    if (!inSpeech && this.#inSpeech) {
      this.#inSpeech = false
      this.#endUtterance('vad')
      this.decoder.startUtterance()
      return
    }
    this.#inSpeech = inSpeech
    if (!inSpeech) return
    const text = this.decoder.hypothesis().split(' ').map(cleanWord).join(' ').trim()
    if (text && text !== this.#lastPartial) this.events.partial((this.#lastPartial = text))
  }

  #endUtterance(reason: FinalReason): void {
    this.#inSpeech = false
    this.#lastPartial = ''
    const words = this.decoder.endUtterance().map((w) => ({
      word: w.word,
      start: round3((w.startFrame - this.#firstFrame) * FRAME_SECONDS),
      end: round3((w.endFrame + 1 - this.#firstFrame) * FRAME_SECONDS),
    }))
    this.events.final(words, reason, this.seconds)
  }
}

const round3 = (x: number): number => Math.max(0, Math.round(x * 1000) / 1000)
