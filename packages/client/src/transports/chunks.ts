import { apiErrorFrom, StreamError } from '../errors.ts'
import { BYTES_PER_SAMPLE, fromBase64, SampleAligner } from '../lib/pcm.ts'
import type { AsyncQueue } from '../lib/queue.ts'
import type { RawOutputFormat, SpeakOptions, SpeechChunk, Transport } from '../types.ts'
import type { WordTimestamps } from '@voxgate/protocol'

/**
 * Turns the audio of one stream into `SpeechChunk`s on sample boundaries, and stream events
 * (`chunk`, `timestamps`, `done`, `error`) into queue operations. Shared by SSE and WebSocket.
 */
export class ChunkSink {
  readonly #aligner: SampleAligner
  readonly #bytesPerSample: number
  #index = 0

  constructor(
    readonly queue: AsyncQueue<SpeechChunk>,
    private readonly format: RawOutputFormat,
    private readonly transport: Transport,
    private readonly onTimestamps?: SpeakOptions['onTimestamps'],
  ) {
    this.#bytesPerSample = BYTES_PER_SAMPLE[format.encoding] ?? 1
    this.#aligner = new SampleAligner(this.#bytesPerSample)
  }

  audio(bytes: Uint8Array, contextId?: string, flushId?: number): void {
    const audio = this.#aligner.take(bytes)
    if (audio.byteLength === 0) return
    this.queue.push({
      audio,
      encoding: this.format.encoding,
      sampleRate: this.format.sample_rate,
      samples: audio.byteLength / this.#bytesPerSample,
      index: this.#index++,
      transport: this.transport,
      ...(contextId !== undefined && { contextId }),
      ...(flushId !== undefined && { flushId }),
    })
  }

  /** Handles one parsed stream event; returns true once the stream is over. */
  event(e: Record<string, unknown>): boolean {
    const contextId = typeof e.context_id === 'string' ? e.context_id : undefined
    const flushId = typeof e.flush_id === 'number' ? e.flush_id : undefined
    switch (e.type) {
      case 'chunk':
        if (typeof e.data !== 'string') return this.#protocol('a chunk event without data')
        this.audio(fromBase64(e.data), contextId, flushId)
        return false
      case 'timestamps':
        if (e.word_timestamps) this.onTimestamps?.(e.word_timestamps as WordTimestamps)
        return false
      case 'done':
        this.queue.end()
        return true
      case 'error':
        this.queue.fail(apiErrorFrom(typeof e.status_code === 'number' ? e.status_code : 500, e))
        return true
      default:
        return false // flush_done, phoneme_timestamps and future events need nothing here
    }
  }

  #protocol(what: string): true {
    this.queue.fail(new StreamError('ERR_PROTOCOL', `The server sent ${what}.`))
    return true
  }
}
