import { decodeWaveToFloat32Channels } from '@echogarden/wave-codec'
import { VoxgateError, type SttEncoding } from '@voxgate/protocol'
import { floatToInt16, toInt16 } from './pcm.ts'
import { readWebmOpus, WebmError } from './webm.ts'

/** Mono 16-bit PCM at the file's own rate. */
export interface DecodedAudio {
  samples: Int16Array
  sampleRate: number
}

export interface RawPcm {
  encoding: SttEncoding
  sampleRate: number
}

type Container = 'wav' | 'ogg' | 'webm' | 'mp3' | 'flac' | 'mp4' | 'unknown'

const ascii = (b: Uint8Array, at: number, n: number): string => Buffer.from(b.subarray(at, at + n)).toString('latin1')

/** The container, from its first bytes; a file's name or MIME type is never trusted. */
export function sniffContainer(b: Uint8Array): Container {
  if (ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WAVE') return 'wav'
  if (ascii(b, 0, 4) === 'OggS') return 'ogg'
  if (b[0] === 0x1a && b[1] === 0x45 && b[2] === 0xdf && b[3] === 0xa3) return 'webm'
  if (ascii(b, 0, 4) === 'fLaC') return 'flac'
  if (ascii(b, 4, 4) === 'ftyp') return 'mp4'
  if (ascii(b, 0, 3) === 'ID3' || (b[0] === 0xff && ((b[1] ?? 0) & 0xe0) === 0xe0 && ((b[1] ?? 0) & 0x06) !== 0))
    return 'mp3'
  return 'unknown'
}

const unsupported = (what: string) =>
  new VoxgateError(
    'unsupported_audio_format',
    `${what} Send WAV, Ogg or WebM Opus, MP3, FLAC, or raw PCM with ?encoding=&sample_rate=.`,
  )

/** Joins channel buffers' chunks and averages channels to mono. */
class MonoCollector {
  #parts: Float32Array[] = []
  #length = 0
  rate = 0

  constructor(private readonly maxSeconds: number) {}

  add(channels: Float32Array[], samples: number, rate: number): void {
    if (samples === 0 || channels.length === 0) return
    this.rate = rate
    const mono = new Float32Array(samples)
    for (const ch of channels) for (let i = 0; i < samples; i++) mono[i]! += (ch[i] ?? 0) / channels.length
    this.#parts.push(mono)
    this.#length += samples
    if (this.#length > this.maxSeconds * rate) throw tooLong(this.maxSeconds)
  }

  finish(): DecodedAudio {
    const all = new Float32Array(this.#length)
    let at = 0
    for (const p of this.#parts) all.set(p, (at += p.length) - p.length)
    return { samples: floatToInt16(all), sampleRate: this.rate || 16000 }
  }
}

const tooLong = (maxSeconds: number) =>
  new VoxgateError('payload_too_large', `The audio is longer than ${maxSeconds} seconds; split it.`)

/** Compressed data is fed in pieces so an over-long file is refused before it is all decoded. */
const PIECE = 64 * 1024
function* pieces(b: Uint8Array): Generator<Uint8Array> {
  for (let at = 0; at < b.length; at += PIECE) yield b.subarray(at, at + PIECE)
}

/**
 * Decodes an uploaded file (or headerless PCM described by `raw`) to mono 16-bit PCM. Runs in a
 * recognition worker: the wasm decoders never block the event loop.
 */
export async function decodeAudioFile(
  bytes: Uint8Array,
  raw: RawPcm | undefined,
  maxSeconds: number,
): Promise<DecodedAudio> {
  const container = sniffContainer(bytes)
  const out = new MonoCollector(maxSeconds)
  switch (container) {
    case 'wav':
      return decodeWav(bytes, maxSeconds)
    case 'ogg':
      await decodeOgg(bytes, out)
      break
    case 'webm':
      await decodeWebm(bytes, out)
      break
    case 'mp3':
      await decodeMp3(bytes, out)
      break
    case 'flac':
      await decodeFlac(bytes, out)
      break
    case 'mp4':
      throw unsupported('MP4/M4A (AAC) audio is not supported.')
    case 'unknown': {
      if (!raw) throw unsupported('The audio format was not recognised.')
      const whole = bytes.subarray(0, bytes.length - (bytes.length % sampleBytes(raw.encoding)))
      if (whole.length / sampleBytes(raw.encoding) > maxSeconds * raw.sampleRate) throw tooLong(maxSeconds)
      return { samples: toInt16(raw.encoding, whole), sampleRate: raw.sampleRate }
    }
  }
  return out.finish()
}

const sampleBytes = (e: SttEncoding): number =>
  e === 'pcm_mulaw' || e === 'pcm_alaw' ? 1 : e === 'pcm_s16le' || e === 'pcm_f16le' ? 2 : 4

function decodeWav(bytes: Uint8Array, maxSeconds: number): DecodedAudio {
  let audio: ReturnType<typeof decodeWaveToFloat32Channels>
  try {
    audio = decodeWaveToFloat32Channels(bytes, true, true)
  } catch {
    throw unsupported(
      'The WAV file could not be read (its format is not PCM, float, μ-law or A-law, or it is damaged).',
    )
  }
  const out = new MonoCollector(maxSeconds)
  out.add(audio.audioChannels, audio.audioChannels[0]?.length ?? 0, audio.sampleRate)
  if (out.rate === 0) out.rate = audio.sampleRate
  return out.finish()
}

async function decodeOgg(bytes: Uint8Array, out: MonoCollector): Promise<void> {
  if (!ascii(bytes, 0, 200).includes('OpusHead'))
    throw unsupported('Only Opus is supported in Ogg (not Vorbis or FLAC).')
  const { OggOpusDecoder } = await import('ogg-opus-decoder')
  const decoder = new OggOpusDecoder()
  await decoder.ready
  try {
    for (const piece of pieces(bytes)) {
      // decode() is async in ogg-opus-decoder 1.7 although its types say otherwise.
      const d = await (decoder.decode(piece) as unknown as Promise<ReturnType<typeof decoder.decode>>)
      out.add(d.channelData, d.samplesDecoded, d.sampleRate)
    }
    const d = await decoder.flush()
    out.add(d.channelData, d.samplesDecoded, d.sampleRate)
  } finally {
    decoder.free()
  }
}

async function decodeWebm(bytes: Uint8Array, out: MonoCollector): Promise<void> {
  let webm: ReturnType<typeof readWebmOpus>
  try {
    webm = readWebmOpus(bytes)
  } catch (err) {
    if (err instanceof WebmError) throw unsupported(`The WebM file could not be read: ${err.message}.`)
    throw err
  }
  const channels = Math.min(2, Math.max(1, webm.head[9] ?? 1))
  const preSkip = (webm.head[10] ?? 0) | ((webm.head[11] ?? 0) << 8)
  const { OpusDecoder } = await import('opus-decoder')
  const decoder = new OpusDecoder({ channels, preSkip })
  await decoder.ready
  try {
    for (let i = 0; i < webm.packets.length; i += 50) {
      const d = decoder.decodeFrames(webm.packets.slice(i, i + 50))
      out.add(d.channelData, d.samplesDecoded, d.sampleRate)
    }
  } finally {
    decoder.free()
  }
}

async function decodeMp3(bytes: Uint8Array, out: MonoCollector): Promise<void> {
  const { MPEGDecoder } = await import('mpg123-decoder')
  const decoder = new MPEGDecoder()
  await decoder.ready
  try {
    for (const piece of pieces(bytes)) {
      // decode() is async in ogg-opus-decoder 1.7 although its types say otherwise.
      const d = await (decoder.decode(piece) as unknown as Promise<ReturnType<typeof decoder.decode>>)
      out.add(d.channelData, d.samplesDecoded, d.sampleRate)
    }
  } finally {
    decoder.free()
  }
}

async function decodeFlac(bytes: Uint8Array, out: MonoCollector): Promise<void> {
  const { FLACDecoder } = await import('@wasm-audio-decoders/flac')
  const decoder = new FLACDecoder()
  await decoder.ready
  try {
    for (const piece of pieces(bytes)) {
      const d = await decoder.decode(piece)
      out.add(d.channelData, d.samplesDecoded, d.sampleRate)
    }
    const d = await decoder.flush()
    out.add(d.channelData, d.samplesDecoded, d.sampleRate)
  } finally {
    decoder.free()
  }
}
