/** Joins Int16 PCM parts into one array (the single part itself when there is only one). */
export function concatPcm(parts: Int16Array[]): Int16Array {
  if (parts.length === 1 && parts[0]) return parts[0]
  const out = new Int16Array(parts.reduce((a, p) => a + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

/**
 * Collects PCM and hands it on in whole pieces of `piece` samples: `push` returns every whole piece the
 * audio so far makes (several pieces as one array, which the pipeline slices), or nothing, and keeps the
 * rest until more comes or `flush` returns it.
 */
export class PcmPieces {
  readonly #piece: number
  #parts: Int16Array[] = []
  #held = 0

  constructor(piece: number) {
    this.#piece = Math.max(1, piece)
  }

  push(pcm: Int16Array): Int16Array | undefined {
    if (pcm.length === 0) return undefined
    this.#parts.push(pcm)
    this.#held += pcm.length
    const whole = this.#held - (this.#held % this.#piece)
    if (whole === 0) return undefined
    const all = concatPcm(this.#parts)
    const rest = all.length - whole
    this.#parts = rest > 0 ? [all.slice(whole)] : []
    this.#held = rest
    return rest > 0 ? all.subarray(0, whole) : all
  }

  flush(): Int16Array | undefined {
    if (this.#held === 0) return undefined
    const all = concatPcm(this.#parts)
    this.#parts = []
    this.#held = 0
    return all
  }
}
