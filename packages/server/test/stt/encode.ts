import { encodeAlaw } from '@echogarden/wave-codec/dist/codecs/Alaw.js'
import { encodeMulaw } from '@echogarden/wave-codec/dist/codecs/Mulaw.js'
import type { SttEncoding } from '@voxgate/protocol'

/** float → IEEE 754 half (round toward zero is plenty for test audio). */
function toHalf(x: number): number {
  const f = new Float32Array([x])
  const b = new Uint32Array(f.buffer)[0]!
  const sign = (b >>> 16) & 0x8000
  const exp = ((b >>> 23) & 0xff) - 127 + 15
  if (exp <= 0) return sign
  if (exp >= 31) return sign | 0x7c00
  return sign | (exp << 10) | ((b >>> 13) & 0x3ff)
}

/** 16-bit PCM → the bytes of any STT encoding (test input). */
export function encodePcm(pcm: Int16Array, encoding: SttEncoding): Uint8Array {
  const n = pcm.length
  switch (encoding) {
    case 'pcm_s16le':
      return new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength)
    case 'pcm_mulaw':
      return encodeMulaw(pcm)
    case 'pcm_alaw':
      return encodeAlaw(pcm)
    case 'pcm_s32le': {
      const v = new DataView(new ArrayBuffer(n * 4))
      for (let i = 0; i < n; i++) v.setInt32(i * 4, pcm[i]! * 65536, true)
      return new Uint8Array(v.buffer)
    }
    case 'pcm_f32le': {
      const v = new DataView(new ArrayBuffer(n * 4))
      for (let i = 0; i < n; i++) v.setFloat32(i * 4, pcm[i]! / 32768, true)
      return new Uint8Array(v.buffer)
    }
    case 'pcm_f16le': {
      const v = new DataView(new ArrayBuffer(n * 2))
      for (let i = 0; i < n; i++) v.setUint16(i * 2, toHalf(pcm[i]! / 32768), true)
      return new Uint8Array(v.buffer)
    }
  }
}
