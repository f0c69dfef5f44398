import { decodeAlaw } from '@echogarden/wave-codec/dist/codecs/Alaw.js'
import { decodeMulaw } from '@echogarden/wave-codec/dist/codecs/Mulaw.js'
import { STT_BYTES_PER_SAMPLE, type SttEncoding } from '@voxgate/protocol'

/** IEEE 754 half precision → number (pcm_f16le). */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1
  const exp = (h >> 10) & 0x1f
  const frac = h & 0x3ff
  if (exp === 0) return sign * frac * 2 ** -24
  if (exp === 0x1f) return frac ? 0 : sign // NaN is silence; ±Inf clips below
  return sign * (1 + frac / 1024) * 2 ** (exp - 15)
}

const clip16 = (x: number): number => Math.max(-32768, Math.min(32767, Math.round(x * 32767)))

/** Whole samples of `encoding` (bytes.length a multiple of the sample size) → 16-bit PCM. */
export function toInt16(encoding: SttEncoding, bytes: Uint8Array): Int16Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const n = bytes.length / STT_BYTES_PER_SAMPLE[encoding]
  const out = new Int16Array(n)
  switch (encoding) {
    case 'pcm_s16le':
      for (let i = 0; i < n; i++) out[i] = view.getInt16(i * 2, true)
      break
    case 'pcm_s32le':
      for (let i = 0; i < n; i++) out[i] = view.getInt32(i * 4, true) >> 16
      break
    case 'pcm_f32le':
      for (let i = 0; i < n; i++) out[i] = clip16(view.getFloat32(i * 4, true) || 0)
      break
    case 'pcm_f16le':
      for (let i = 0; i < n; i++) out[i] = clip16(halfToFloat(view.getUint16(i * 2, true)))
      break
    case 'pcm_mulaw':
      return decodeMulaw(bytes)
    case 'pcm_alaw':
      return decodeAlaw(bytes)
  }
  return out
}

/** Float samples (decoded files) → 16-bit PCM. */
export function floatToInt16(samples: Float32Array): Int16Array {
  const out = new Int16Array(samples.length)
  for (let i = 0; i < samples.length; i++) out[i] = clip16(samples[i] || 0)
  return out
}

/**
 * Frames of a stream in one encoding → 16-bit PCM. A WebSocket frame need not end on a sample
 * boundary: the odd bytes wait for the next frame.
 */
export class PcmFramer {
  readonly #encoding: SttEncoding
  readonly #size: number
  #carry = new Uint8Array(0)

  constructor(encoding: SttEncoding) {
    this.#encoding = encoding
    this.#size = STT_BYTES_PER_SAMPLE[encoding]
  }

  push(bytes: Uint8Array): Int16Array {
    const all = this.#carry.length === 0 ? bytes : Buffer.concat([this.#carry, bytes])
    const whole = all.length - (all.length % this.#size)
    this.#carry = all.slice(whole)
    return toInt16(this.#encoding, all.subarray(0, whole))
  }
}
