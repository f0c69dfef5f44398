import type { LibAV as LibAVInstance } from '@libav.js/variant-default'
import { libav, openWriter } from './libav.ts'
import { PcmFrames } from './pcm-frames.ts'

/** The containers voxgate makes with libav.js (libopus in Ogg, FLAC in FLAC). */
export type LibavFormat = 'opus' | 'flac'

const CODECS: Record<LibavFormat, { codec: string; muxer: string; floats: boolean }> = {
  opus: { codec: 'libopus', muxer: 'ogg', floats: true },
  flac: { codec: 'flac', muxer: 'flac', floats: false },
}

/** Mono, in FFmpeg's channel-layout bits (AV_CH_FRONT_CENTER). */
const MONO = 4
/** libopus's bit rate for speech at 24 kHz: OpenAI's own Opus is about this. */
const OPUS_BIT_RATE = 64_000
/** AVFMT_FLAG_BITEXACT: a fixed Ogg serial number instead of a random one, so the same speech is the same bytes. */
const AVFMT_FLAG_BITEXACT = 0x0400

/**
 * Encodes mono 16-bit PCM into Opus (Ogg) or FLAC as it arrives, with libav.js (FFmpeg's own
 * encoders and muxers compiled to wasm, so no codec is hand-written here). Each chunk of PCM (a
 * sentence, or what the upstream sent) is encoded and its pages or frames sent at once: the Ogg
 * muxer is flushed so a page ends there, and the FLAC muxer writes each frame as it comes. What is
 * held between chunks is at most one encoder frame of samples and that frame's packets.
 *
 * The output is a stream, not a file: the muxer cannot go back to the start, so FLAC's STREAMINFO
 * says 0 total samples and an all-zero MD5 ("unknown", as the FLAC format allows for streams), and
 * Ogg's last page is marked as such only where the stream ends.
 */
export async function* encodeStream(
  format: LibavFormat,
  pcm: AsyncIterable<Buffer>,
  sampleRate: number,
): AsyncGenerator<Buffer> {
  const av = await libav()
  const writer = await openWriter(av, format)
  let muxer: Muxer | undefined
  try {
    muxer = await openMuxer(av, format, sampleRate, writer.name)
    const frames = new PcmFrames(muxer.frameSize)
    for await (const chunk of pcm) {
      await muxer.write(frames.push(chunk))
      const bytes = writer.drain()
      if (bytes) yield bytes
    }
    await muxer.finish(frames.rest())
    const bytes = writer.drain()
    if (bytes) yield bytes
  } finally {
    await muxer?.free()
    await writer.close()
  }
}

interface Muxer {
  frameSize: number
  /** Encodes these frames and writes their packets through to the device. */
  write(frames: Int16Array[]): Promise<void>
  /** Encodes the short last frame, drains the encoder, and writes the trailer. */
  finish(last: Int16Array | undefined): Promise<void>
  free(): Promise<void>
}

/** One encode's codec and muxer contexts, writing to the device `filename`; its header is written. */
async function openMuxer(av: LibAVInstance, format: LibavFormat, sampleRate: number, filename: string): Promise<Muxer> {
  const { codec, muxer, floats } = CODECS[format]
  const sampleFmt = floats ? av.AV_SAMPLE_FMT_FLT : av.AV_SAMPLE_FMT_S16
  const [, c, frame, pkt, frameSize] = await av.ff_init_encoder(codec, {
    ctx: { sample_fmt: sampleFmt, sample_rate: sampleRate, channel_layout: MONO, bit_rate: OPUS_BIT_RATE },
    time_base: [1, sampleRate],
  })
  let oc = 0
  let pb = 0
  let pts = 0
  const toFrame = (part: Int16Array) => {
    const f = {
      data: floats ? Float32Array.from(part, (s) => s / 32768) : part,
      channel_layout: MONO,
      format: sampleFmt,
      pts,
      sample_rate: sampleRate,
      nb_samples: part.length,
    }
    pts += part.length
    return f
  }
  const encode = async (parts: Int16Array[], fin: boolean) => {
    const packets = await av.ff_encode_multi(c, frame, pkt, parts.map(toFrame), fin)
    // Not interleaved: one stream has nothing to wait for, and the interleaver would hold packets back.
    if (packets.length > 0) await av.ff_write_multi(oc, pkt, packets, false)
  }
  const free = async () => {
    if (oc) await av.ff_free_muxer(oc, pb)
    oc = 0
    await av.ff_free_encoder(c, frame, pkt)
  }
  try {
    ;[oc, , pb] = await av.ff_init_muxer({ format_name: muxer, filename, open: true }, [[c, 1, sampleRate]])
    await av.AVFormatContext_flags_s(oc, (await av.AVFormatContext_flags(oc)) | AVFMT_FLAG_BITEXACT)
    await av.avformat_write_header(oc, 0)
    await av.avio_flush(pb)
  } catch (err) {
    await free()
    throw err
  }
  return {
    // Both encoders name their frame size; 4096 samples for one that leaves it free.
    frameSize: frameSize > 0 ? frameSize : 4096,
    async write(frames) {
      if (frames.length === 0) return
      await encode(frames, false)
      // A null packet flushes a muxer that buffers (Ogg ends its page here); FLAC ignores it.
      await av.av_write_frame(oc, 0)
      await av.avio_flush(pb)
    },
    async finish(last) {
      await encode(last ? [last] : [], true)
      await av.av_write_trailer(oc)
      await av.avio_flush(pb)
    },
    free,
  }
}
