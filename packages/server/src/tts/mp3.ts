import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { createEncoder, type WasmMediaEncoder } from 'wasm-media-encoders'

/** Sample rates an MP3 stream can carry (MPEG-1, -2 and -2.5 layer III). */
export const MP3_RATES = [8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000] as const
type Mp3Rate = (typeof MP3_RATES)[number]
type Mp3Kbps = 8 | 16 | 24 | 32 | 40 | 48 | 64 | 80 | 96 | 112 | 128 | 160 | 192 | 224 | 256 | 320
const KBPS: readonly Mp3Kbps[] = [8, 16, 24, 32, 40, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320]

/** Free encoders kept for reuse: `configure()` resets one, which is cheaper than a new instance. */
const SPARE_MAX = 8

/** An MP3 stream can only carry MP3_RATES, so any other requested rate is served at the nearest one. */
export function mp3RateFor(requested: number): Mp3Rate {
  return MP3_RATES.reduce((best, r) => (Math.abs(r - requested) < Math.abs(best - requested) ? r : best), MP3_RATES[0])
}

/** LAME takes kbps from a fixed list; the request's bit_rate is bits/s. LAME clamps to what a rate allows. */
function kbpsFor(bitRate: number): Mp3Kbps {
  const want = bitRate / 1000
  return KBPS.reduce((best, k) => (Math.abs(k - want) < Math.abs(best - want) ? k : best), 128 as Mp3Kbps)
}

export interface Mp3Stream {
  encode(pcm: Int16Array): Uint8Array
  finish(): Uint8Array
  release(): void
}

let wasm: Promise<WebAssembly.Module> | undefined
const spare: WasmMediaEncoder<'audio/mpeg'>[] = []

/** The LAME module is compiled once, lazily: only MP3 requests pay for it. */
function compiled(): Promise<WebAssembly.Module> {
  wasm ??= readFile(createRequire(import.meta.url).resolve('wasm-media-encoders/wasm/mp3')).then((b) =>
    WebAssembly.compile(b),
  )
  return wasm
}

/** One continuous MP3 stream across every sentence of a request; `release` returns the encoder for reuse. */
export async function openMp3Stream(sampleRate: Mp3Rate, bitRate: number): Promise<Mp3Stream> {
  const encoder = spare.pop() ?? (await createEncoder('audio/mpeg', await compiled()))
  // Without outputSampleRate, LAME resamples low bit rates down (48 kHz at 32 kbps became 22.05 kHz).
  encoder.configure({ sampleRate, channels: 1, bitrate: kbpsFor(bitRate), outputSampleRate: sampleRate })
  let released = false
  return {
    // The encoder reuses its output buffer, so every result is copied out.
    encode: (pcm) => encoder.encode([Float32Array.from(pcm, (s) => s / 32768)]).slice(),
    finish: () => encoder.finalize().slice(),
    release: () => {
      if (released) return
      released = true
      if (spare.length < SPARE_MAX) spare.push(encoder)
    },
  }
}
