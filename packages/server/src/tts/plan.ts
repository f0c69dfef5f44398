import { parseMarkup, SPEED_RATIO_MAX, SPEED_RATIO_MIN } from '@voxgate/protocol'
import { splitSentences } from './split.ts'

/** All the `<break>` silence one request (one WebSocket segment) may ask for; breaks past it are cut. */
export const BREAKS_MAX_MS_PER_REQUEST = 60_000
/** Gain bounds for `generation_config.volume` × `<volume>` (each 0.5..2). */
const GAIN_MIN = 0.25
const GAIN_MAX = 4

/** One sentence to speak, with what the markup asks of it. */
export interface SpeechUnit {
  kind: 'speech'
  /** The sentence as written in the spoken text (what budgets count and refunds find). */
  source: string
  /** What the engine is given: `source`, or its letters and digits one by one inside `<spell>`. */
  text: string
  /** Markup's speed ratio (the request's own speed is applied on top). */
  speed: number
  /** Markup's volume ratio (the request's own volume is applied on top). */
  volume: number
}

export interface BreakUnit {
  kind: 'break'
  ms: number
}

export type Unit = SpeechUnit | BreakUnit

/**
 * Text for `<spell>`: each letter and digit on its own, separated so every engine reads it as a
 * letter name or a digit ("ABC-123" → "A, B, C, 1, 2, 3."); punctuation is not read.
 */
export function spellOut(text: string): string {
  const symbols = [...text].filter((c) => /[\p{L}\p{N}]/u.test(c)).map((c) => c.toLocaleUpperCase())
  return symbols.length > 0 ? `${symbols.join(', ')}.` : ''
}

/**
 * The request's text as what is spoken, in order: sentences (each with the markup's speed and
 * volume, spelled out where asked) and breaks (silence). Markup never reaches an engine as text.
 */
export function planUnits(text: string): Unit[] {
  const units: Unit[] = []
  let breakMs = 0
  for (const piece of parseMarkup(text).pieces) {
    if (piece.kind === 'break') {
      const ms = Math.min(piece.ms, BREAKS_MAX_MS_PER_REQUEST - breakMs)
      breakMs += ms
      if (ms > 0) units.push({ kind: 'break', ms })
      continue
    }
    for (const source of splitSentences(piece.text)) {
      const spoken = piece.spell ? spellOut(source) : source
      if (spoken.length > 0)
        units.push({ kind: 'speech', source, text: spoken, speed: piece.speed, volume: piece.volume })
    }
  }
  return units
}

export const clampSpeed = (v: number) => Math.min(SPEED_RATIO_MAX, Math.max(SPEED_RATIO_MIN, v))
export const clampGain = (v: number) => Math.min(GAIN_MAX, Math.max(GAIN_MIN, v))
