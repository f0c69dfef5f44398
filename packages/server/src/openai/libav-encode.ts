import LibAV, { type LibAV as LibAVInstance } from '@libav.js/variant-default'

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

let instance: Promise<LibAVInstance> | undefined
/** One libav.js instance, loaded on first use (only Opus and FLAC requests pay for it), in this thread. */
const libav = () => {
  instance ??= LibAV.LibAV({ noworker: true })
  return instance
}

/** libav.js keeps one in-memory file system and encoder state per instance: requests take turns. */
let queue: Promise<unknown> = Promise.resolve()
let serial = 0

/**
 * Encodes a whole mono Int16 recording into an Opus (Ogg) or FLAC file with libav.js, FFmpeg's own
 * encoders compiled to wasm, so no codec is hand-written here.
 */
export function encodeWhole(format: LibavFormat, pcm: Int16Array, sampleRate: number): Promise<Uint8Array> {
  const run = queue.then(() => encodeNow(format, pcm, sampleRate))
  queue = run.catch(() => undefined)
  return run
}

async function encodeNow(format: LibavFormat, pcm: Int16Array, sampleRate: number): Promise<Uint8Array> {
  const av = await libav()
  const { codec, muxer, floats } = CODECS[format]
  const sampleFmt = floats ? av.AV_SAMPLE_FMT_FLT : av.AV_SAMPLE_FMT_S16
  const [, c, frame, pkt, frameSize] = await av.ff_init_encoder(codec, {
    ctx: { sample_fmt: sampleFmt, sample_rate: sampleRate, channel_layout: MONO, bit_rate: OPUS_BIT_RATE },
    time_base: [1, sampleRate],
  })
  const file = `out-${++serial}.${format}`
  try {
    const [oc, , pb] = await av.ff_init_muxer({ format_name: muxer, filename: file, open: true }, [[c, 1, sampleRate]])
    await av.avformat_write_header(oc, 0)
    const frames = framesOf(pcm, frameSize, { sampleRate, sampleFmt, floats })
    await av.ff_write_multi(oc, pkt, await av.ff_encode_multi(c, frame, pkt, frames, true))
    await av.av_write_trailer(oc)
    await av.ff_free_muxer(oc, pb)
    return await av.readFile(file)
  } finally {
    await av.ff_free_encoder(c, frame, pkt)
    await av.unlink(file).catch(() => undefined)
  }
}

interface FrameShape {
  sampleRate: number
  sampleFmt: number
  floats: boolean
}

/**
 * The encoder's frames, `frameSize` samples each; the last may be shorter (both encoders take a
 * small last frame, so the file ends where the speech does instead of on padding).
 */
function framesOf(pcm: Int16Array, frameSize: number, shape: FrameShape) {
  const step = frameSize > 0 ? frameSize : 4096
  const frames = []
  for (let at = 0; at < pcm.length; at += step) {
    const part = pcm.slice(at, at + step)
    frames.push({
      data: shape.floats ? Float32Array.from(part, (s) => s / 32768) : part,
      channel_layout: MONO,
      format: shape.sampleFmt,
      pts: at,
      sample_rate: shape.sampleRate,
      nb_samples: part.length,
    })
  }
  return frames
}
