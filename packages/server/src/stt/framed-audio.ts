import CodecParser, {
  type CodecFrame,
  type CodecValue,
  type FLACHeader,
  type MimeType,
  type MPEGHeader,
  type OggPage,
  type OpusHeader,
} from 'codec-parser'
import { assertAcceptedFormat, unsupportedAudio } from './accepted-audio.ts'
import type { Pcm16kSink } from './pcm16k-sink.ts'

/**
 * Ogg Opus, MP3 and FLAC, decoded frame by frame. codec-parser (the framing library the wasm decoders
 * use themselves) splits the file into frames with their headers; each frame's rate and channels are
 * checked and its duration counted (`sink.expect`) before it is decoded, and frames are decoded in small
 * batches by a decoder made for this file and freed in a `finally`. Opus is decoded straight at 16 kHz.
 */

/** Compressed input is parsed in pieces of this size, so frames are never all held at once. */
const PIECE = 16 * 1024
/** Frames decoded per call: a batch decodes to at most a few seconds of audio. */
const BATCH = 32

interface FrameDecoder {
  /** Decodes one batch of frames of one format into the sink. */
  decode(frames: Uint8Array[], rate: number): Promise<void>
  free(): void
}

/** What decides a frame's decoder: frames that differ in it are not decoded together. */
interface FrameFormat {
  key: string
  rate: number
  make(): Promise<FrameDecoder>
}

interface Container {
  mime: MimeType
  codec: CodecValue
  name: string
}

/** The file's frames in order, parsed a piece at a time. */
function* framesOf(bytes: Uint8Array, container: Container): Generator<CodecFrame> {
  const parser = new CodecParser(container.mime, {
    enableFrameCRC32: false,
    onCodec: (codec) => {
      if (codec !== container.codec) throw unsupportedAudio(`${container.name} holds ${codec}, which is not supported.`)
    },
  })
  const each = function* (items: Iterator<CodecFrame | OggPage>): Generator<CodecFrame> {
    for (let next = items.next(); !next.done; next = items.next())
      yield* 'codecFrames' in next.value ? next.value.codecFrames : [next.value]
  }
  for (let at = 0; at < bytes.length; at += PIECE) yield* each(parser.parseChunk(bytes.subarray(at, at + PIECE)))
  yield* each(parser.flush())
}

/**
 * Two passes. The first reads only headers: every frame's format is checked and its duration counted,
 * so a file that declares what the server refuses, or lasts longer than the cap, is refused before
 * anything is decoded. The second decodes, in batches, with one decoder per run of one format.
 */
async function decodeFrames(
  bytes: Uint8Array,
  container: Container,
  sink: Pcm16kSink,
  formatOf: (frame: CodecFrame) => FrameFormat,
): Promise<void> {
  for (const frame of framesOf(bytes, container)) {
    formatOf(frame)
    sink.expect(frame.duration / 1000)
  }
  let decoder: FrameDecoder | undefined
  let format: FrameFormat | undefined
  let batch: Uint8Array[] = []
  const flush = async () => {
    if (batch.length === 0 || !format) return
    decoder ??= await format.make()
    await decoder.decode(batch, format.rate)
    batch = []
  }
  try {
    for (const frame of framesOf(bytes, container)) {
      const its = formatOf(frame)
      if (format && (its.key !== format.key || its.rate !== format.rate)) await flush()
      if (format && its.key !== format.key) {
        decoder?.free()
        decoder = undefined
      }
      format = its
      batch.push(frame.data)
      if (batch.length >= BATCH) await flush()
    }
    await flush()
  } finally {
    decoder?.free()
  }
}

export async function decodeOggOpus(bytes: Uint8Array, sink: Pcm16kSink): Promise<void> {
  await decodeFrames(bytes, { mime: 'application/ogg', codec: 'opus', name: 'The Ogg file' }, sink, (frame) => {
    const head = frame.header as OpusHeader
    // Opus is always coded at 48 kHz; OpusHead's "input sample rate" is informational and not used.
    assertAcceptedFormat('Ogg Opus', { sampleRate: 48000, channels: head.channels })
    const options = {
      channels: head.channels,
      streamCount: head.streamCount,
      coupledStreamCount: head.coupledStreamCount,
      channelMappingTable: head.channelMappingTable,
      preSkip: head.preSkip,
    }
    return { key: JSON.stringify(options), rate: OPUS_RATE, make: () => opusDecoder(options, sink) }
  })
}

/** Opus is decoded straight at 16 kHz, the recogniser's rate (libopus resamples as it decodes). */
const OPUS_RATE = 16000

/**
 * A fresh `opus-decoder` for one stream (Ogg and WebM alike), `preSkip` in 48 kHz samples as OpusHead
 * gives it.
 */
export async function opusDecoder(
  head: {
    channels: number
    streamCount?: number
    coupledStreamCount?: number
    channelMappingTable?: number[]
    preSkip: number
  },
  sink: Pcm16kSink,
): Promise<FrameDecoder> {
  const { OpusDecoder } = await import('opus-decoder')
  const decoder = new OpusDecoder({
    ...head,
    preSkip: Math.round((head.preSkip * OPUS_RATE) / 48000),
    sampleRate: OPUS_RATE,
  })
  try {
    await decoder.ready
  } catch (err) {
    decoder.free()
    throw err
  }
  return {
    decode: async (frames) => {
      if (frames.length === 0) return
      const d = decoder.decodeFrames(frames)
      sink.addChannels(d.channelData, d.samplesDecoded, OPUS_RATE)
    },
    free: () => decoder.free(),
  }
}

export async function decodeMp3(bytes: Uint8Array, sink: Pcm16kSink): Promise<void> {
  const { MPEGDecoder } = await import('mpg123-decoder')
  await decodeFrames(bytes, { mime: 'audio/mpeg', codec: 'mpeg', name: 'The MP3 file' }, sink, (frame) => {
    const head = frame.header as MPEGHeader
    assertAcceptedFormat('MP3', head)
    // One decoder for the file: mpg123 follows rate changes itself; batches are split where the rate changes.
    return {
      key: 'mpeg',
      rate: head.sampleRate,
      make: async () => {
        const decoder = new MPEGDecoder()
        await decoder.ready
        return {
          decode: async (frames, rate) => {
            const d = decoder.decodeFrames(frames)
            sink.addChannels(d.channelData, d.samplesDecoded, rate)
          },
          free: () => decoder.free(),
        }
      },
    }
  })
}

/** FLAC's STREAMINFO (the first metadata block, at a fixed place): the rate and channels every frame may refer to. */
function flacStreamInfo(b: Uint8Array): { sampleRate: number; channels: number } {
  if (b.length < 42 || (b[4]! & 0x7f) !== 0) throw unsupportedAudio('The FLAC file has no STREAMINFO block.')
  return { sampleRate: (b[18]! << 12) | (b[19]! << 4) | (b[20]! >> 4), channels: ((b[20]! >> 1) & 0x07) + 1 }
}

export async function decodeFlac(bytes: Uint8Array, sink: Pcm16kSink): Promise<void> {
  const info = flacStreamInfo(bytes)
  assertAcceptedFormat('FLAC', info)
  const { FLACDecoder } = await import('@wasm-audio-decoders/flac')
  await decodeFrames(bytes, { mime: 'audio/flac', codec: 'flac', name: 'The FLAC file' }, sink, (frame) => {
    const head = frame.header as FLACHeader
    // A frame may carry a rate of its own, or refer to STREAMINFO's.
    const format = {
      sampleRate: typeof head.sampleRate === 'number' ? head.sampleRate : info.sampleRate,
      channels: head.channels,
    }
    assertAcceptedFormat('FLAC', format)
    return {
      key: 'flac',
      rate: format.sampleRate,
      make: async () => {
        const decoder = new FLACDecoder()
        await decoder.ready
        return {
          decode: async (frames, rate) => {
            const d = await decoder.decodeFrames(frames)
            sink.addChannels(d.channelData, d.samplesDecoded, rate)
          },
          free: () => decoder.free(),
        }
      },
    }
  })
}
