/**
 * How many milliseconds of audio relayed bytes hold, for the usage ledger, from the request's
 * `output_format` (the upstream's audio is never decoded). Raw and WAV PCM are exact (a WAV's
 * header is counted as audio: 44 bytes, well under a millisecond at any rate voxgate accepts);
 * MP3 is estimated from its bit rate (a constant-bit-rate stream, as Cartesia sends); anything
 * voxgate cannot size counts 0.
 */

/** The parts of an `output_format` that size audio; unknown fields are ignored. */
export interface SizedFormat {
  container?: unknown
  encoding?: unknown
  sample_rate?: unknown
  bit_rate?: unknown
}

const BYTES_PER_SAMPLE: Record<string, number> = { pcm_f32le: 4, pcm_s16le: 2, pcm_mulaw: 1, pcm_alaw: 1 }

/** Milliseconds per byte of `format`, or 0 when the format does not say. */
export function msPerByte(format: SizedFormat | undefined): number {
  if (!format || typeof format !== 'object') return 0
  const rate = typeof format.sample_rate === 'number' && format.sample_rate > 0 ? format.sample_rate : 0
  if (format.container === 'raw' || format.container === 'wav') {
    const width = typeof format.encoding === 'string' ? BYTES_PER_SAMPLE[format.encoding] : undefined
    return width && rate ? 1000 / (width * rate) : 0
  }
  if (format.container === 'mp3') {
    const bitRate = typeof format.bit_rate === 'number' && format.bit_rate > 0 ? format.bit_rate : 128_000
    return 8000 / bitRate
  }
  return 0
}

/** Milliseconds per byte from a WAV header at the start of `first` (its byte rate), or 0. */
export function wavMsPerByte(first: Buffer): number {
  if (first.length < 32 || first.toString('latin1', 0, 4) !== 'RIFF' || first.toString('latin1', 8, 12) !== 'WAVE')
    return 0
  // The canonical header's `fmt ` chunk comes first; its byte rate is at offset 28.
  if (first.toString('latin1', 12, 16) !== 'fmt ') return 0
  const byteRate = first.readUInt32LE(28)
  return byteRate > 0 ? 1000 / byteRate : 0
}

/** The milliseconds of audio in each chunk of an answer: `perByte` a byte, or (0) at the rate of a WAV header in the first chunk. */
export function chunkSizer(perByte: number): (chunk: Buffer) => number {
  let rate = perByte
  let first = true
  return (chunk) => {
    if (first && rate === 0) rate = wavMsPerByte(chunk)
    first = false
    return chunk.length * rate
  }
}
