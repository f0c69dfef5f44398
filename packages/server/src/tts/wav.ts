import type { RawEncoding } from '@voxgate/protocol'

/** WAVE format tags (RFC 2361): what the samples after the header are. */
const FORMAT_TAG: Record<RawEncoding, number> = { pcm_s16le: 1, pcm_f32le: 3, pcm_alaw: 6, pcm_mulaw: 7 }
export const BITS_PER_SAMPLE: Record<RawEncoding, number> = { pcm_s16le: 16, pcm_f32le: 32, pcm_alaw: 8, pcm_mulaw: 8 }

export const WAV_HEADER_BYTES = 44
/**
 * The RIFF and data sizes of a streamed WAV: the length is unknown when the header goes out, so both
 * carry 0xFFFFFFFF ("as long as the stream"), which ffmpeg, sox, browsers and most players accept.
 * Cartesia does not document its choice (PROTOCOL.md §4.2).
 */
export const STREAMING_SIZE = 0xffffffff

/**
 * A 44-byte canonical header (RIFF, 16-byte `fmt `, `data`) for mono audio. μ-law and A-law are 8-bit.
 * Non-PCM tags strictly want an 18-byte `fmt ` and a `fact` chunk; the canonical 44 bytes are kept
 * because streaming readers expect exactly that and read these tags from it without complaint.
 */
export function wavHeader(encoding: RawEncoding, sampleRate: number): Uint8Array {
  const bits = BITS_PER_SAMPLE[encoding]
  const blockAlign = bits / 8
  const out = new Uint8Array(WAV_HEADER_BYTES)
  const v = new DataView(out.buffer)
  const ascii = (at: number, s: string) => {
    for (let i = 0; i < s.length; i++) out[at + i] = s.charCodeAt(i)
  }
  ascii(0, 'RIFF')
  v.setUint32(4, STREAMING_SIZE, true)
  ascii(8, 'WAVE')
  ascii(12, 'fmt ')
  v.setUint32(16, 16, true)
  v.setUint16(20, FORMAT_TAG[encoding], true)
  v.setUint16(22, 1, true)
  v.setUint32(24, sampleRate, true)
  v.setUint32(28, sampleRate * blockAlign, true)
  v.setUint16(32, blockAlign, true)
  v.setUint16(34, bits, true)
  ascii(36, 'data')
  v.setUint32(40, STREAMING_SIZE, true)
  return out
}
