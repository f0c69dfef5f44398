/**
 * A request's first audio waits for its first engine job, and a worker runs a job to its end before
 * it takes the next one: under a burst of streams, every stream's first audio waits for the first
 * jobs queued before its own. So the first sentence of a request goes to the engine in two parts: a
 * short head (its first clause, or its first few words) and the rest, which follows as the next job,
 * as urgent as the head (pipeline.ts). Later sentences are whole, as an engine says them best.
 */
import type { SpeechUnit, Unit } from './plan.ts'

/**
 * The head's most words (a clause ending earlier ends it sooner). Under a burst of streams started at
 * once, the p50 stream's first audio waits for half the heads queued before it, shared by the
 * workers, so it grows with the head's cost: eSpeak's 5 words cost 0.62× its 8 (8.0 against 13.0 ms
 * of CPU), Flite's 0.77×; 5 words are still about 1.7 s of speech, which covers the rest's wait.
 */
export const FIRST_SEGMENT_WORDS = 5
/** A sentence whose rest would be shorter than this is not cut: so short a rest saves too little. */
const MIN_REST_WORDS = 3
/** A word that ends a clause: a comma, semicolon or colon after it, or a dash standing alone. */
const CLAUSE_END = /^(?:.*[,;:，、；：]["'”’)\]]*|[-–—]+)$/u

/**
 * Splits a sentence longer than FIRST_SEGMENT_WORDS words after its first clause if that ends
 * within them (after its second word at the earliest), else after FIRST_SEGMENT_WORDS words; whole
 * when the rest would be under MIN_REST_WORDS words. Words are runs of non-space characters, so a text
 * written without spaces (Chinese, Japanese) is never cut. The parts keep every character but the
 * whitespace at the cut.
 */
export function splitFirstSegment(sentence: string): [string] | [string, string] {
  const words = [...sentence.matchAll(/\S+/gu)]
  if (words.length <= FIRST_SEGMENT_WORDS) return [sentence]
  let cut = -1
  for (let k = 1; k < Math.min(words.length, FIRST_SEGMENT_WORDS); k++) {
    if (CLAUSE_END.test(words[k]![0])) {
      cut = k
      break
    }
  }
  if (cut < 0) cut = FIRST_SEGMENT_WORDS - 1
  if (words.length - (cut + 1) < MIN_REST_WORDS) return [sentence]
  const word = words[cut]!
  const at = (word.index ?? 0) + word[0].length
  return [sentence.slice(0, at), sentence.slice(at).trimStart()]
}

/** One engine job of a request, or one break, with the unit (sentence or break) it belongs to. */
export type Step =
  | { kind: 'break'; unit: number; ms: number }
  | {
      kind: 'speech'
      unit: number
      /** What the engine is given. */
      text: string
      /** What markup asks of the sentence. */
      markup: Pick<SpeechUnit, 'speed' | 'volume'>
      /** The unit's last job: its sentence's timestamps go out after it. */
      last: boolean
    }

export interface StepOptions {
  /**
   * Cut the first sentence: the request starts its stream's audio (an HTTP request, a WebSocket
   * context's first segment). A later segment of a context continues audio under way, and stays whole.
   */
  cutFirst: boolean
}

/**
 * The engine jobs for `units`, in order: one per sentence, except the first sentence, which is cut
 * by `splitFirstSegment` when `cutFirst` says so (never when it is spelled out: its letters are read
 * one by one anyway).
 */
export function planSteps(units: Unit[], options: StepOptions): Step[] {
  const steps: Step[] = []
  let first = options.cutFirst
  units.forEach((unit, i) => {
    if (unit.kind === 'break') {
      steps.push({ kind: 'break', unit: i, ms: unit.ms })
      return
    }
    const parts = first && unit.text === unit.source ? splitFirstSegment(unit.text) : [unit.text]
    first = false
    parts.forEach((text, k) => {
      steps.push({ kind: 'speech', unit: i, text, markup: unit, last: k === parts.length - 1 })
    })
  })
  return steps
}
