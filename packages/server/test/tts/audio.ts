import type { SpeechService, SynthesisChunk, SynthesisRequest } from '../../src/tts/types.ts'

/** Helpers that read real audio back: tests assert on samples and headers, not on mocks. */

export async function collect(
  service: SpeechService,
  request: SynthesisRequest,
  signal?: AbortSignal,
): Promise<SynthesisChunk[]> {
  const chunks: SynthesisChunk[] = []
  for await (const chunk of service.synthesize(request, signal)) chunks.push(chunk)
  return chunks
}

export function concatBytes(chunks: SynthesisChunk[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((a, c) => a + c.audio.length, 0))
  let at = 0
  for (const c of chunks) {
    out.set(c.audio, at)
    at += c.audio.length
  }
  return out
}

export const seconds = (chunks: SynthesisChunk[]) => chunks.reduce((a, c) => a + c.durationSeconds, 0)

/** Root mean square of Int16 samples, in Int16 units (full scale 32768). */
export function rms(pcm: Int16Array): number {
  let sum = 0
  for (const s of pcm) sum += s * s
  return Math.sqrt(sum / Math.max(1, pcm.length))
}

export function parseWavHeader(bytes: Uint8Array) {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const tag = (at: number) => String.fromCharCode(...bytes.subarray(at, at + 4))
  return {
    riff: tag(0),
    riffSize: v.getUint32(4, true),
    wave: tag(8),
    fmt: tag(12),
    fmtSize: v.getUint32(16, true),
    formatTag: v.getUint16(20, true),
    channels: v.getUint16(22, true),
    sampleRate: v.getUint32(24, true),
    byteRate: v.getUint32(28, true),
    blockAlign: v.getUint16(32, true),
    bits: v.getUint16(34, true),
    data: tag(36),
    dataSize: v.getUint32(40, true),
  }
}

const MP3_KBPS_V1 = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320]
const MP3_KBPS_V2 = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160]
const MP3_RATES: Record<number, number[]> = {
  3: [44100, 48000, 32000],
  2: [22050, 24000, 16000],
  0: [11025, 12000, 8000],
}

/** Walks MPEG layer III frames: every frame must start with the 0xFFE sync; returns the audio seconds. */
export function mp3Frames(bytes: Uint8Array): { frames: number; seconds: number; sampleRate: number } {
  let at = 0
  let frames = 0
  let seconds = 0
  let sampleRate = 0
  while (at + 4 <= bytes.length) {
    const [b0 = 0, b1 = 0, b2 = 0] = bytes.subarray(at, at + 3)
    if (b0 !== 0xff || (b1 & 0xe0) !== 0xe0) throw new Error(`no MP3 frame sync at byte ${at}`)
    const version = (b1 >> 3) & 3
    const kbps = (version === 3 ? MP3_KBPS_V1 : MP3_KBPS_V2)[b2 >> 4] ?? 0
    sampleRate = MP3_RATES[version]?.[(b2 >> 2) & 3] ?? 0
    const perFrame = version === 3 ? 1152 : 576
    const length = Math.floor(((perFrame / 8) * kbps * 1000) / sampleRate) + ((b2 >> 1) & 1)
    if (!kbps || !sampleRate || length <= 0) throw new Error(`bad MP3 frame header at byte ${at}`)
    frames++
    seconds += perFrame / sampleRate
    at += length
  }
  return { frames, seconds, sampleRate }
}
