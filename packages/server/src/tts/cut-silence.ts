/**
 * The pause an engine pads a text with, trimmed where the text is a cut inside a sentence
 * (first-segment.ts). Flite starts and ends every text it is given with a pause (~0.2 s each), so a
 * sentence spoken as a head and its rest had a gap of ~0.35 s between two words the whole sentence
 * says with none; eSpeak pads less. At a cut, each side keeps CUT_PAUSE_MS of its pause, so the join
 * sounds like a word gap. A sentence's own first and last pauses are left as the engine made them.
 */
import { concatPcm } from './pcm.ts'

/** What each side of a cut keeps of its pause. */
export const CUT_PAUSE_MS = 40
/**
 * Below this magnitude a sample is pause. Flite's pauses stay under ~80 and its speech starts above
 * 1,000; a low level keeps soft sounds (a word's leading /h/ or /f/), at the cost of trimming less.
 */
export const PAUSE_LEVEL = 128

export interface CutEnds {
  /** The text begins at a cut: its leading pause is trimmed. */
  start: boolean
  /** The text ends at a cut: its trailing pause is trimmed. */
  end: boolean
}
const loud = (x: number) => x >= PAUSE_LEVEL || x <= -PAUSE_LEVEL

/**
 * Trims a job's native audio as it streams through: `push` returns what may go on now, `flush` the
 * rest once the engine is done. A trailing pause is only known at the end, so a quiet run is held back
 * until a loud sample follows it (it is then passed on whole) or the job ends.
 */
export class CutSilence {
  readonly #keep: number
  #inLead: boolean
  readonly #trimEnd: boolean
  /** Samples dropped from the leading pause: the engine's timings shift back by as much. */
  #dropped = 0
  /** The last samples of the leading pause so far (at most `#keep`), kept if speech follows them. */
  #leadTail = new Int16Array(0)
  /** The quiet run at the end of what was pushed so far, held back (trailing trim only). */
  #held: Int16Array[] = []

  constructor(ends: CutEnds, sampleRate: number) {
    this.#keep = Math.round((CUT_PAUSE_MS * sampleRate) / 1000)
    this.#inLead = ends.start
    this.#trimEnd = ends.end
  }

  /** Samples dropped from the start, in samples of the engine's rate. */
  get droppedStart(): number {
    return this.#dropped
  }

  push(pcm: Int16Array): Int16Array {
    let audio = pcm
    if (this.#inLead) {
      const onset = audio.findIndex(loud)
      if (onset < 0) {
        this.#keepLeadTail(audio)
        return new Int16Array(0)
      }
      this.#keepLeadTail(audio.subarray(0, onset))
      this.#inLead = false
      audio = concatPcm([this.#leadTail, audio.subarray(onset)])
      this.#leadTail = new Int16Array(0)
    }
    if (!this.#trimEnd) return audio
    let last = audio.length - 1
    while (last >= 0 && !loud(audio[last]!)) last--
    if (last < 0) {
      // Copied: an engine may reuse its buffer for the next call.
      if (audio.length > 0) this.#held.push(audio.slice())
      return new Int16Array(0)
    }
    const out = concatPcm([...this.#held, audio.subarray(0, last + 1)])
    this.#held = last + 1 < audio.length ? [audio.slice(last + 1)] : []
    return out
  }

  /** The end of the audio: a leading pause that never met speech, or a trailing pause, cut to `#keep`. */
  flush(): Int16Array {
    if (this.#inLead) {
      this.#inLead = false
      return this.#leadTail
    }
    const held = concatPcm(this.#held)
    this.#held = []
    return this.#trimEnd ? held.subarray(0, this.#keep) : held
  }

  #keepLeadTail(quiet: Int16Array): void {
    const all = concatPcm([this.#leadTail, quiet])
    const from = Math.max(0, all.length - this.#keep)
    this.#dropped += from
    this.#leadTail = all.slice(from)
  }
}
