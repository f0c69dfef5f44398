import SpeexInit from '@echogarden/speex-resampler-wasm/simd'
import { concatPcm } from './pcm.ts'

/** The Speex resampler's wasm module: the calls voxgate makes of it (the package ships no types). */
export interface SpeexModule {
  HEAP16: Int16Array
  HEAPU32: Uint32Array
  _malloc(bytes: number): number
  _free(ptr: number): void
  _speex_resampler_init(channels: number, inRate: number, outRate: number, quality: number, errPtr: number): number
  _speex_resampler_destroy(state: number): void
  _speex_resampler_get_input_latency(state: number): number
  _speex_resampler_get_output_latency(state: number): number
  _speex_resampler_process_int(
    state: number,
    channel: number,
    inPtr: number,
    inLenPtr: number,
    outPtr: number,
    outLenPtr: number,
  ): number
}

/** Speex quality 0..10; 5 is its "default" trade-off, measured fast enough (TTS-ENGINES.md §5). */
const QUALITY = 5
/** Input samples copied into the wasm heap per call. */
const BLOCK = 16384

export const loadSpeex = (): Promise<SpeexModule> => SpeexInit()

export interface Resampler {
  push(pcm: Int16Array): Int16Array
  /** Pushes the filter's input latency in zeros so the tail of the audio comes out. */
  flush(): Int16Array
  destroy(): void
}

/** Passes audio through, copying it: engine buffers may be views into a wasm heap and cannot be transferred. */
function passThrough(): Resampler {
  const empty = new Int16Array(0)
  return { push: (pcm) => pcm.slice(), flush: () => empty, destroy: () => {} }
}

/**
 * A streaming Speex resampler with persistent state, so chunk boundaries leave no seams and the
 * output length is exactly in × out/in. The filter delay is dropped at the start and flushed at the end.
 */
export function createResampler(m: SpeexModule, inRate: number, outRate: number): Resampler {
  if (inRate === outRate) return passThrough()
  const cap = Math.ceil((BLOCK * outRate) / inRate) + 64
  const ptrs = [4, BLOCK * 2, cap * 2, 4, 4].map((n) => m._malloc(n))
  const [errP = 0, inP = 0, outP = 0, inLenP = 0, outLenP = 0] = ptrs
  const state = m._speex_resampler_init(1, inRate, outRate, QUALITY, errP)
  const inputLatency = m._speex_resampler_get_input_latency(state)
  let skip = m._speex_resampler_get_output_latency(state)
  let destroyed = false

  function run(pcm: Int16Array): Int16Array {
    const parts: Int16Array[] = []
    for (let off = 0; off < pcm.length; ) {
      const n = Math.min(BLOCK, pcm.length - off)
      m.HEAP16.set(pcm.subarray(off, off + n), inP >> 1)
      m.HEAPU32[inLenP >> 2] = n
      m.HEAPU32[outLenP >> 2] = cap
      if (m._speex_resampler_process_int(state, 0, inP, inLenP, outP, outLenP) !== 0)
        throw new Error('speex resampler failed')
      let out = m.HEAP16.slice(outP >> 1, (outP >> 1) + (m.HEAPU32[outLenP >> 2] ?? 0))
      if (skip > 0) {
        const k = Math.min(skip, out.length)
        out = out.slice(k)
        skip -= k
      }
      parts.push(out)
      const used = m.HEAPU32[inLenP >> 2] ?? 0
      if (used === 0) throw new Error('speex resampler made no progress')
      off += used
    }
    return concatPcm(parts)
  }

  return {
    push: run,
    flush: () => run(new Int16Array(inputLatency)),
    destroy: () => {
      if (destroyed) return
      destroyed = true
      m._speex_resampler_destroy(state)
      for (const p of ptrs) m._free(p)
    },
  }
}
