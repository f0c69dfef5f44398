/** What `listen()` accepts: 16-bit integer samples, or float samples in -1..1 (Web Audio's). Mono. */
export type PcmFrame = Int16Array | Float32Array

/**
 * Re-cuts PCM frames of any size into chunks of `chunkSamples` 16-bit little-endian samples (the
 * wire's `pcm_s16le`; every platform a browser or Node runs on is little-endian). Float samples are
 * clipped to -1..1 and scaled; NaN becomes silence.
 */
export class PcmChunker {
  readonly #buf: Int16Array
  #fill = 0

  constructor(chunkSamples: number) {
    this.#buf = new Int16Array(chunkSamples)
  }

  /** Adds a frame; `out` receives every chunk it completes. */
  push(frame: PcmFrame, out: (bytes: Uint8Array) => void): void {
    for (let i = 0; i < frame.length; ) {
      const n = Math.min(frame.length - i, this.#buf.length - this.#fill)
      if (frame instanceof Int16Array) this.#buf.set(frame.subarray(i, i + n), this.#fill)
      else
        for (let j = 0; j < n; j++)
          this.#buf[this.#fill + j] = Math.max(-32768, Math.min(32767, Math.round(frame[i + j]! * 32768)))
      this.#fill += n
      i += n
      if (this.#fill === this.#buf.length) out(this.take()!)
    }
  }

  /** The samples held back so far (a partial chunk), or undefined when there are none. */
  take(): Uint8Array | undefined {
    if (this.#fill === 0) return undefined
    const bytes = new Uint8Array(this.#buf.buffer.slice(0, this.#fill * 2))
    this.#fill = 0
    return bytes
  }
}
