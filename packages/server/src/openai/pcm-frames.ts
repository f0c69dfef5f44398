/**
 * Cuts 16-bit mono PCM, arriving in chunks of any length (an odd byte included), into an encoder's
 * frames of `frameSize` samples. What does not fill a frame waits for the next chunk, so at most one
 * frame's worth is ever held; `rest()` is the short last frame.
 */
export class PcmFrames {
  #held: Buffer = Buffer.alloc(0)

  constructor(private readonly frameSize: number) {}

  /** The whole frames this chunk completes, in order. */
  push(chunk: Buffer): Int16Array[] {
    const bytes = this.#held.length > 0 ? Buffer.concat([this.#held, chunk]) : chunk
    const frameBytes = this.frameSize * 2
    const whole = bytes.length - (bytes.length % frameBytes)
    const frames: Int16Array[] = []
    for (let at = 0; at < whole; at += frameBytes) frames.push(samplesOf(bytes.subarray(at, at + frameBytes)))
    this.#held = Buffer.from(bytes.subarray(whole))
    return frames
  }

  /** The samples left over at the end (a trailing odd byte is dropped: it is half a sample). */
  rest(): Int16Array | undefined {
    const even = this.#held.subarray(0, this.#held.length & ~1)
    this.#held = Buffer.alloc(0)
    return even.length > 0 ? samplesOf(even) : undefined
  }
}

/** A copy, aligned: a Buffer's byte offset may be odd, which an Int16Array view cannot start at. */
function samplesOf(bytes: Buffer): Int16Array {
  const samples = new Int16Array(bytes.length / 2)
  Buffer.from(samples.buffer).set(bytes)
  return samples
}
