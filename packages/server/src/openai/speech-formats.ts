import { VoxgateError, type OutputFormat } from '@voxgate/protocol'
import type { FfmpegAac } from '../context.ts'
import { encodeAac } from './ffmpeg.ts'
import { encodeStream, type LibavFormat } from './libav-encode.ts'

/** OpenAI's speech sample rate: `pcm` is 24 kHz 16-bit little-endian mono, and every format is made at it. */
export const OPENAI_SAMPLE_RATE = 24_000

const PCM_24K: OutputFormat = { container: 'raw', encoding: 'pcm_s16le', sample_rate: OPENAI_SAMPLE_RATE }

/** How one `response_format` is made: what the synthesis pipeline outputs, and what turns that into the file. */
export interface SpeechFormat {
  contentType: string
  /** The pipeline's own output format: MP3, WAV and PCM come straight from it. */
  outputFormat: OutputFormat
  /** Formats the pipeline cannot make: its PCM encoded by libav.js as it is made. */
  libav?: LibavFormat
  /** AAC: the pipeline's PCM piped through ffmpeg as it is made (only where ffmpeg was found at start). */
  ffmpeg?: true
}

const FORMATS: Record<string, SpeechFormat> = {
  mp3: {
    contentType: 'audio/mpeg',
    outputFormat: { container: 'mp3', sample_rate: OPENAI_SAMPLE_RATE, bit_rate: 128_000 },
  },
  wav: { contentType: 'audio/wav', outputFormat: { ...PCM_24K, container: 'wav' } },
  pcm: { contentType: 'audio/pcm', outputFormat: PCM_24K },
  opus: { contentType: 'audio/ogg; codecs=opus', outputFormat: PCM_24K, libav: 'opus' },
  flac: { contentType: 'audio/flac', outputFormat: PCM_24K, libav: 'flac' },
  aac: { contentType: 'audio/aac', outputFormat: PCM_24K, ffmpeg: true },
}

/** The `response_format`s a server makes, in the order a refusal names them: AAC only with ffmpeg. */
export function speechFormats(ffmpeg: FfmpegAac | undefined): string[] {
  return Object.keys(FORMATS).filter((name) => ffmpeg !== undefined || !FORMATS[name]!.ffmpeg)
}

/** OpenAI's format, or 400 `unsupported_output_format` naming the ones this server can make. */
export function speechFormatOf(name: string, ffmpeg: FfmpegAac | undefined): SpeechFormat {
  const formats = speechFormats(ffmpeg)
  if (!formats.includes(name)) {
    const why = Object.hasOwn(FORMATS, name)
      ? `${name} needs ffmpeg, and this server found none at start (--ffmpeg)`
      : 'voxgate cannot make that format'
    throw new VoxgateError('unsupported_output_format', `response_format: ${why}; use one of ${formats.join(', ')}.`)
  }
  return FORMATS[name]!
}

/**
 * The bytes of a format as they are sent, each piece as soon as it is made: the pipeline's own, AAC
 * as ffmpeg makes it, Opus and FLAC as libav.js encodes each chunk of the pipeline's PCM.
 */
export async function* formatBytes(
  format: SpeechFormat,
  audio: AsyncIterable<Buffer>,
  ffmpeg: FfmpegAac | undefined,
): AsyncGenerator<Buffer> {
  if (format.ffmpeg && ffmpeg) yield* encodeAac(audio, { ...ffmpeg, sampleRate: OPENAI_SAMPLE_RATE })
  else if (format.libav) yield* encodeStream(format.libav, audio, OPENAI_SAMPLE_RATE)
  else yield* audio
}
