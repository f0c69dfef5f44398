import { STT_SAMPLE_RATE_MAX, STT_SAMPLE_RATE_MIN } from '@voxgate/protocol'

/** A WAV file whose duration its bytes give exactly: uncompressed samples of a fixed width. */
export interface PcmWav {
  /** Bytes of one second of audio: rate × channels × bytes per sample, from the `fmt ` chunk's own fields. */
  bytesPerSecond: number
  /** Where the `data` chunk's samples start. */
  dataOffset: number
}

/** What a WAV header says: exact PCM, a format to decode instead, or not enough bytes yet. */
export type WavHeader = { kind: 'pcm'; wav: PcmWav } | { kind: 'other' } | { kind: 'incomplete' }

/** PCM, IEEE float, A-law, μ-law (WAVE_FORMAT_EXTENSIBLE names one of them in its sub-format). */
const EXACT_TAGS = new Set([1, 3, 6, 7])
const EXTENSIBLE = 0xfffe
const WIDTHS = new Set([1, 2, 3, 4, 8])

/**
 * Reads a RIFF/WAVE header from the first bytes of a file: its chunks are walked (each step moves
 * forward at least 8 bytes, so the walk is bounded by the bytes given) to the `fmt ` and `data`
 * chunks. Only a rate within what the server accepts and one or two channels count as exact; a
 * header that declares anything else is `other`, left to the bounded decoder, which refuses it.
 */
export function readWavHeader(b: Uint8Array): WavHeader {
  if (b.length < 12) return { kind: 'incomplete' }
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength)
  if (ascii(b, 0, 4) !== 'RIFF' || ascii(b, 8, 4) !== 'WAVE') return { kind: 'other' }
  let bytesPerSecond: number | undefined
  for (let at = 12; at + 8 <= b.length; ) {
    const id = ascii(b, at, 4)
    const size = view.getUint32(at + 4, true)
    if (id === 'data') return bytesPerSecond ? { kind: 'pcm', wav: { bytesPerSecond, dataOffset: at + 8 } } : other
    if (id === 'fmt ') {
      if (at + 8 + Math.min(size, 26) > b.length) return { kind: 'incomplete' }
      bytesPerSecond = exactRate(view, at + 8, size)
      if (bytesPerSecond === undefined) return other
    }
    at += 8 + size + (size & 1)
  }
  return { kind: 'incomplete' }
}

const other: WavHeader = { kind: 'other' }

/** Bytes per second of a `fmt ` chunk at `at`, when its samples are uncompressed and within bounds. */
function exactRate(view: DataView, at: number, size: number): number | undefined {
  if (size < 16) return undefined
  let tag = view.getUint16(at, true)
  if (tag === EXTENSIBLE && size >= 26) tag = view.getUint16(at + 24, true)
  const channels = view.getUint16(at + 2, true)
  const rate = view.getUint32(at + 4, true)
  const bits = view.getUint16(at + 14, true)
  const width = bits / 8
  if (!EXACT_TAGS.has(tag) || !WIDTHS.has(width) || channels < 1 || channels > 2) return undefined
  if (rate < STT_SAMPLE_RATE_MIN || rate > STT_SAMPLE_RATE_MAX) return undefined
  return rate * channels * width
}

const ascii = (b: Uint8Array, at: number, n: number): string => Buffer.from(b.subarray(at, at + n)).toString('latin1')
