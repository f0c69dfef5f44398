import type { OutputFormat, RawEncoding } from '@voxgate/protocol'
import { encodeAlaw } from '@echogarden/wave-codec/dist/codecs/Alaw.js'
import { encodeMulaw } from '@echogarden/wave-codec/dist/codecs/Mulaw.js'
import { mp3RateFor, openMp3Stream } from './mp3.ts'
import { wavHeader } from './wav.ts'

/** Turns the request's PCM (Int16 at `sampleRate`) into the bytes of its output format, chunk by chunk. */
export interface AudioEncoder {
  /** The rate the samples must be at: the requested one, except MP3, which has a fixed set. */
  readonly sampleRate: number
  /** Bytes that go before the first audio (the WAV header), or empty. */
  header(): Uint8Array
  encode(pcm: Int16Array): Uint8Array
  /** Bytes that end the stream (the MP3 encoder's last frames), or empty. */
  finish(): Uint8Array
  /** Frees the encoder; safe to call more than once and after `finish`. */
  release(): void
}

const EMPTY = new Uint8Array(0)
const bytesOf = (a: Int16Array | Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength)

/** Raw sample conversion; wave-codec's μ-law/A-law are deep-imported (the package root does not export them). */
export function encodeSamples(pcm: Int16Array, encoding: RawEncoding): Uint8Array {
  switch (encoding) {
    case 'pcm_s16le':
      return bytesOf(pcm)
    case 'pcm_f32le':
      return bytesOf(Float32Array.from(pcm, (s) => s / 32768))
    case 'pcm_mulaw':
      return encodeMulaw(pcm)
    case 'pcm_alaw':
      return encodeAlaw(pcm)
  }
}

/** An encoder for one request; MP3 is asynchronous to open because its wasm may still need compiling. */
export async function openEncoder(format: OutputFormat): Promise<AudioEncoder> {
  if (format.container === 'mp3') {
    const sampleRate = mp3RateFor(format.sample_rate)
    const mp3 = await openMp3Stream(sampleRate, format.bit_rate)
    return { sampleRate, header: () => EMPTY, encode: mp3.encode, finish: mp3.finish, release: mp3.release }
  }
  const { encoding, sample_rate: sampleRate } = format
  const header = format.container === 'wav' ? wavHeader(encoding, sampleRate) : EMPTY
  return {
    sampleRate,
    header: () => header,
    encode: (pcm) => encodeSamples(pcm, encoding),
    finish: () => EMPTY,
    release: () => {},
  }
}
