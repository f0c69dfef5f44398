/**
 * A request's first audio waits for its first engine job, and a worker runs a job to its end before
 * it takes the next one: under a burst of streams, every stream's first audio waits for the first
 * jobs queued before its own. So the first sentence of a request goes to the engine in two parts: a
 * short head (its first clause, or its first few words) and the rest, which follows as the next job,
 * as urgent as the head (pipeline.ts). Later sentences are whole, as an engine says them best.
 */
import type { CutEnds } from './cut-silence.ts'
import type { EngineId } from './engine.ts'
import type { SpeechUnit, Unit } from './plan.ts'

/**
 * The head's most words, by engine (a clause ending earlier ends it sooner). Under a burst of streams
 * started at once, the p50 stream's first audio waits for half the heads queued before it, shared by
 * the workers, so it grows with the head's cost. But each stream's rest is queued behind every head,
 * and must arrive before the head's audio and the player's buffer run out: at N streams, N rests ÷
 * workers ≤ head audio + buffer, so a shorter head leaves less time for a longer rest.
 * - eSpeak, 4: its 4 words cost ~0.75× its 5 (a job's cost is ~0.8 ms plus ~0.6 ms a word, and
 *   resampling), and are ~1.4 s of speech; its rests are cheap (200 streams' rests ≈ 0.6 s of two
 *   workers).
 * - Flite, 5: a job costs ~8 ms before its first word and ~3 ms a word (its vocoder), so its rests are
 *   four times eSpeak's; with 4-word heads, 150 streams' rests would take about all of the head's audio
 *   and the buffer (docs/performance.md, streams, round four).
 */
export const HEAD_WORDS: Readonly<Record<EngineId, number>> = { espeak: 4, flite: 5 }
/** A sentence whose rest would be shorter than this is not cut: so short a rest saves too little. */
const MIN_REST_WORDS = 3
/** A word that ends a clause: a comma, semicolon or colon after it, or a dash standing alone. */
const CLAUSE_END = /^(?:.*[,;:，、；：]["'”’)\]]*|[-–—]+)$/u

/**
 * Splits a sentence longer than `headWords` words after its first clause if that ends within them
 * (after its second word at the earliest), else after `headWords` words; whole when the rest would be
 * under MIN_REST_WORDS words. Words are runs of non-space characters, so a text
 * written without spaces (Chinese, Japanese) is never cut. The parts keep every character but the
 * whitespace at the cut.
 */
export function splitFirstSegment(sentence: string, headWords: number): [string] | [string, string] {
  const words = [...sentence.matchAll(/\S+/gu)]
  if (words.length <= headWords) return [sentence]
  let cut = -1
  for (let k = 1; k < Math.min(words.length, headWords); k++) {
    if (CLAUSE_END.test(words[k]![0])) {
      cut = k
      break
    }
  }
  if (cut < 0) cut = headWords - 1
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
      /** Where the text is a cut inside its sentence (a head's end, a rest's start). */
      cut?: CutEnds
    }

export interface StepOptions {
  /**
   * Cut the first sentence: the request starts its stream's audio (an HTTP request, a WebSocket
   * context's first segment). A later segment of a context continues audio under way, and stays whole.
   */
  cutFirst: boolean
  /** The engine that speaks: its head length (HEAD_WORDS). */
  engine: EngineId
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
    const parts =
      first && unit.text === unit.source ? splitFirstSegment(unit.text, HEAD_WORDS[options.engine]) : [unit.text]
    first = false
    parts.forEach((text, k) => {
      const last = k === parts.length - 1
      const cut = parts.length > 1 ? { cut: { start: k > 0, end: !last } } : {}
      steps.push({ kind: 'speech', unit: i, text, markup: unit, last, ...cut })
    })
  })
  return steps
}
