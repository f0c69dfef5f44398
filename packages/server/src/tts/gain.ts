/** Where the limiter starts to bend: samples below this are scaled exactly. */
const KNEE = 0.8 * 32767
const HEADROOM = 32767 - KNEE

/**
 * Scales 16-bit samples by `gain` in place, for Cartesia's `volume`. Above the knee a soft limiter
 * (tanh) bends the peaks toward full scale instead of clipping them flat, and nothing ever wraps
 * around: the result stays within ±32767 whatever the gain.
 */
export function applyGain(pcm: Int16Array, gain: number): Int16Array {
  if (gain === 1) return pcm
  for (let i = 0; i < pcm.length; i++) {
    const v = (pcm[i] ?? 0) * gain
    const mag = Math.abs(v)
    const limited = mag <= KNEE ? mag : KNEE + HEADROOM * Math.tanh((mag - KNEE) / HEADROOM)
    pcm[i] = Math.round(Math.sign(v) * limited)
  }
  return pcm
}
