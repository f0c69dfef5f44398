import { STT_BYTES_PER_SAMPLE, VoxgateError } from '@voxgate/protocol'
import { sniffContainer, type RawPcm } from '../../stt/audio-file.ts'
import type { UploadDecoder } from './decoder.ts'
import { readWavHeader } from './wav-header.ts'

export interface UploadAudio {
  bytes: Uint8Array
  /** Headerless PCM's encoding and rate (`?encoding=&sample_rate=`), when the client gave them. */
  raw: RawPcm | undefined
  /** The server's longest upload (`sttMaxUploadSeconds`). */
  maxSeconds: number
  signal: AbortSignal
}

/**
 * How many milliseconds of audio an upload holds, measured before it is relayed: from its bytes
 * where they give it exactly (a PCM, float or G.711 WAV, from its `data` chunk to the end of the
 * file; headerless PCM described by `raw`), otherwise by decoding it as local STT does; a file
 * with a header that is also described by `raw` counts the longer of the two readings. A file
 * voxgate cannot read is refused (400 `unsupported_audio_format`), one longer than `maxSeconds`
 * too (413 `payload_too_large`): what voxgate cannot measure is not relayed.
 */
export async function uploadMs(decoder: UploadDecoder, audio: UploadAudio): Promise<number> {
  const container = exactSeconds(audio.bytes, audio.raw) ?? (await decoder.seconds(audio))
  // Described as raw PCM, a file with a header may be read by the upstream either way: the longer counts.
  const seconds = audio.raw ? Math.max(container, rawSeconds(audio.bytes, audio.raw)) : container
  if (seconds > audio.maxSeconds)
    throw new VoxgateError('payload_too_large', `The audio is longer than ${audio.maxSeconds} seconds; split it.`)
  return Math.ceil(seconds * 1000)
}

/** The duration the bytes themselves give, or undefined when only decoding tells. */
function exactSeconds(bytes: Uint8Array, raw: RawPcm | undefined): number | undefined {
  const container = sniffContainer(bytes)
  if (container === 'wav') {
    const header = readWavHeader(bytes)
    return header.kind === 'pcm' ? (bytes.length - header.wav.dataOffset) / header.wav.bytesPerSecond : undefined
  }
  if (container === 'unknown' && raw) return rawSeconds(bytes, raw)
  return undefined
}

const rawSeconds = (bytes: Uint8Array, raw: RawPcm): number =>
  bytes.length / (STT_BYTES_PER_SAMPLE[raw.encoding] * raw.sampleRate)
