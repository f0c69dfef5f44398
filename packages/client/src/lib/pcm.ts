import type { RawEncoding } from '@voxgate/protocol'

/** Bytes per sample of each raw encoding. */
export const BYTES_PER_SAMPLE: Record<RawEncoding, number> = { pcm_f32le: 4, pcm_s16le: 2, pcm_mulaw: 1, pcm_alaw: 1 }

/** Decodes base64 (the `data` of chunk events) without Node's Buffer. */
export function fromBase64(b64: string): Uint8Array {
  const bin = atob(b64)
  const out = new Uint8Array(bin.length)
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i)
  return out
}

/**
 * Re-cuts a byte stream on sample boundaries: HTTP chunk boundaries fall anywhere, but every chunk
 * the SDK hands out holds whole samples so it can be decoded on its own.
 */
export class SampleAligner {
  #carry = new Uint8Array(0)
  constructor(private readonly frameBytes: number) {}

  /** Returns the whole samples available so far (possibly empty). */
  take(bytes: Uint8Array): Uint8Array {
    let data = bytes
    if (this.#carry.byteLength > 0) {
      data = new Uint8Array(this.#carry.byteLength + bytes.byteLength)
      data.set(this.#carry)
      data.set(bytes, this.#carry.byteLength)
    }
    const whole = data.byteLength - (data.byteLength % this.frameBytes)
    this.#carry = data.slice(whole)
    return whole === data.byteLength ? data : data.subarray(0, whole)
  }

  /** Bytes left over at the end of the stream (a truncated sample), normally zero. */
  get remainder(): number {
    return this.#carry.byteLength
  }
}
