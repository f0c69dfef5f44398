import { VoxgateError, type OutputFormat } from '@voxgate/protocol'
import { encodeWhole, type LibavFormat } from './libav-encode.ts'

/** OpenAI's speech sample rate: `pcm` is 24 kHz 16-bit little-endian mono, and every format is made at it. */
export const OPENAI_SAMPLE_RATE = 24_000

const PCM_24K: OutputFormat = { container: 'raw', encoding: 'pcm_s16le', sample_rate: OPENAI_SAMPLE_RATE }

/** How one `response_format` is made: what the synthesis pipeline outputs, and what turns that into the file. */
export interface SpeechFormat {
  contentType: string
  /** The pipeline's own output format: MP3, WAV and PCM come straight from it. */
  outputFormat: OutputFormat
  /** Formats the pipeline cannot make: its PCM, gathered, becomes one file at the end. */
  wholeFile?: LibavFormat
}

const FORMATS: Record<string, SpeechFormat> = {
  mp3: {
    contentType: 'audio/mpeg',
    outputFormat: { container: 'mp3', sample_rate: OPENAI_SAMPLE_RATE, bit_rate: 128_000 },
  },
  wav: { contentType: 'audio/wav', outputFormat: { ...PCM_24K, container: 'wav' } },
  pcm: { contentType: 'audio/pcm', outputFormat: PCM_24K },
  opus: { contentType: 'audio/ogg; codecs=opus', outputFormat: PCM_24K, wholeFile: 'opus' },
  flac: { contentType: 'audio/flac', outputFormat: PCM_24K, wholeFile: 'flac' },
}

/** The `response_format`s this server makes, in the order a refusal names them. */
export const SPEECH_FORMATS: readonly string[] = Object.keys(FORMATS)

/** OpenAI's format, or 400 `unsupported_output_format` naming the ones voxgate can make (AAC has no encoder here). */
export function speechFormatOf(name: string): SpeechFormat {
  const format = Object.hasOwn(FORMATS, name) ? FORMATS[name] : undefined
  if (!format) {
    throw new VoxgateError(
      'unsupported_output_format',
      `response_format: this server cannot make that format; use one of ${SPEECH_FORMATS.join(', ')}.`,
    )
  }
  return format
}

/**
 * The bytes of a format as they are sent: the pipeline's own as made, or for Opus and FLAC the whole
 * recording encoded once synthesis ends (libav.js encodes a file, not a stream of sentences).
 */
export async function* formatBytes(format: SpeechFormat, audio: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  if (!format.wholeFile) {
    yield* audio
    return
  }
  const parts: Buffer[] = []
  for await (const chunk of audio) parts.push(chunk)
  const pcm = Buffer.concat(parts)
  const samples = new Int16Array(pcm.buffer, pcm.byteOffset, pcm.byteLength >> 1)
  const file = await encodeWhole(format.wholeFile, samples, OPENAI_SAMPLE_RATE)
  yield Buffer.from(file.buffer, file.byteOffset, file.byteLength)
}
