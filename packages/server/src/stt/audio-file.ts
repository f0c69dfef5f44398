import { decodeWaveToBuffer, bufferToFloat32Channels } from '@echogarden/wave-codec'
import { STT_BYTES_PER_SAMPLE, VoxgateError, type SttEncoding } from '@voxgate/protocol'
import type { SpeexModule } from '../tts/resample.ts'
import { assertAcceptedFormat, unsupportedAudio } from './accepted-audio.ts'
import { decodeFlac, decodeMp3, decodeOggOpus, opusDecoder } from './framed-audio.ts'
import { opusPacketSeconds } from './opus-packet.ts'
import { toInt16 } from './pcm.ts'
import { type DecodedAudio, Pcm16kSink } from './pcm16k-sink.ts'
import { readWebmOpus, WebmError } from './webm.ts'

export type { DecodedAudio }

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

export interface DecodeOptions {
  bytes: Uint8Array
  /** Headerless PCM's encoding and rate (the request's `encoding` and `sample_rate`). */
  raw: RawPcm | undefined
  /** The server's cap on one upload's decoded duration (`sttMaxUploadSeconds`). */
  maxSeconds: number
  /** The worker's Speex module: every rate is resampled to 16 kHz as it is decoded. */
  speex: SpeexModule
}

/**
 * Decodes an uploaded file (or headerless PCM described by `raw`) to 16 kHz mono 16-bit PCM. Runs in a
 * recognition worker: the wasm decoders never block the event loop. Bounded by what the server
 * accepts, never by what the file declares: a rate outside 8,000–48,000 Hz or more than two channels
 * is refused from the header before decoding (400), and decoding stops where the audio passes
 * `maxSeconds` (413). A damaged file is a 400, whatever the decoder throws.
 */
export async function decodeAudioFile(options: DecodeOptions): Promise<DecodedAudio> {
  const { bytes, raw, maxSeconds } = options
  const container = sniffContainer(bytes)
  if (container === 'mp4') throw unsupportedAudio('MP4/M4A (AAC) audio is not supported.')
  if (container === 'unknown' && !raw) throw unsupportedAudio('The audio format was not recognised.')
  const sink = new Pcm16kSink({ maxSeconds, speex: options.speex })
  try {
    switch (container) {
      case 'wav':
        decodeWav(bytes, sink)
        break
      case 'ogg':
        await decodeOggOpus(bytes, sink)
        break
      case 'webm':
        await decodeWebm(bytes, sink)
        break
      case 'mp3':
        await decodeMp3(bytes, sink)
        break
      case 'flac':
        await decodeFlac(bytes, sink)
        break
      case 'unknown':
        decodeRaw(bytes, raw!, sink)
        break
    }
    return sink.finish()
  } catch (err) {
    if (err instanceof VoxgateError) throw err
    if (err instanceof WebmError) throw unsupportedAudio(`The WebM file could not be read: ${err.message}.`)
    throw unsupportedAudio(`The ${container === 'unknown' ? 'audio' : container.toUpperCase()} file could not be read.`)
  } finally {
    sink.free()
  }
}

/** PCM is converted a second at a time, so nothing the size of the whole file is made twice. */
function decodeRaw(bytes: Uint8Array, raw: RawPcm, sink: Pcm16kSink): void {
  assertAcceptedFormat('raw PCM', { sampleRate: raw.sampleRate, channels: 1 })
  const size = STT_BYTES_PER_SAMPLE[raw.encoding]
  const whole = bytes.length - (bytes.length % size)
  sink.expect(whole / size / raw.sampleRate)
  const second = raw.sampleRate * size
  for (let at = 0; at < whole; at += second)
    sink.addMono(toInt16(raw.encoding, bytes.subarray(at, Math.min(whole, at + second))), raw.sampleRate)
}

function decodeWav(bytes: Uint8Array, sink: Pcm16kSink): void {
  let wave: ReturnType<typeof decodeWaveToBuffer>
  try {
    wave = decodeWaveToBuffer(bytes, true, true)
  } catch {
    throw unsupportedAudio('The WAV file could not be read (it is damaged).')
  }
  const { sampleRate, channelCount: channels, bitDepth, sampleFormat } = wave
  assertAcceptedFormat('WAV', { sampleRate, channels })
  const frame = (channels * bitDepth) / 8
  if (![1, 3, 6, 7].includes(sampleFormat) || !Number.isInteger(frame) || frame <= 0)
    throw unsupportedAudio('The WAV file is not PCM, float, μ-law or A-law.')
  const data = wave.decodedAudioBuffer
  const whole = data.length - (data.length % frame)
  sink.expect(whole / frame / sampleRate)
  const second = sampleRate * frame
  for (let at = 0; at < whole; at += second) {
    const piece = data.slice(at, Math.min(whole, at + second))
    sink.addChannels(bufferToFloat32Channels(piece, channels, bitDepth, sampleFormat), piece.length / frame, sampleRate)
  }
}

async function decodeWebm(bytes: Uint8Array, sink: Pcm16kSink): Promise<void> {
  const webm = readWebmOpus(bytes)
  const head = webm.head
  if (ascii(head, 0, 8) !== 'OpusHead' || head.length < 19)
    throw unsupportedAudio('The WebM Opus track has no OpusHead.')
  const channels = head[9]!
  assertAcceptedFormat('WebM Opus', { sampleRate: 48000, channels })
  // The packets' durations are counted from their TOC bytes first: one past the cap is refused undecoded.
  for (const packet of webm.packets()) sink.expect(opusPacketSeconds(packet))
  const family = head[18]!
  const decoder = await opusDecoder(
    {
      channels,
      preSkip: head[10]! | (head[11]! << 8),
      ...(family !== 0 &&
        head.length >= 21 + channels && {
          streamCount: head[19]!,
          coupledStreamCount: head[20]!,
          channelMappingTable: [...head.subarray(21, 21 + channels)],
        }),
    },
    sink,
  )
  try {
    let batch: Uint8Array[] = []
    for (const packet of webm.packets()) {
      batch.push(packet)
      if (batch.length < 32) continue
      await decoder.decode(batch, 16000)
      batch = []
    }
    await decoder.decode(batch, 16000)
  } finally {
    decoder.free()
  }
}
