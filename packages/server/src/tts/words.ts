import type { EngineWord } from './engine.ts'

/** A whitespace-delimited word of the input, with its UTF-16 span. */
export interface Token {
  text: string
  start: number
  end: number
}

export function tokenize(text: string): Token[] {
  return [...text.matchAll(/\S+/gu)].map((m) => ({ text: m[0], start: m.index, end: m.index + m[0].length }))
}

/**
 * Turns "word N starts at T ms" marks into words with start and end: an engine reports where a word
 * starts, and its end is the next word's start. Input words the engine never marked (punctuation, a
 * word it merged) get zero length at the next start so every input word is present, in order.
 */
export class WordAligner {
  readonly #tokens: Token[]
  #next = 0
  #open: { token: Token; startMs: number } | undefined

  constructor(text: string) {
    this.#tokens = tokenize(text)
  }

  /** Marks that the word covering `index` (UTF-16 offset in the text) starts at `ms`; returns final words. */
  mark(index: number, ms: number): EngineWord[] {
    // An engine may mark one input word several times ("123" is spoken as three words).
    if (this.#open && index < this.#open.token.end) return []
    const target = this.#tokens.findIndex((t, i) => i >= this.#next && index < t.end)
    return target < 0 ? [] : this.#advanceTo(target, ms, true)
  }

  /** Closes every remaining word at `ms` (the end of speech). */
  finish(ms: number): EngineWord[] {
    return this.#advanceTo(this.#tokens.length, ms, false)
  }

  #advanceTo(target: number, ms: number, openTarget: boolean): EngineWord[] {
    const out: EngineWord[] = []
    if (this.#open)
      out.push({ text: this.#open.token.text, startMs: this.#open.startMs, endMs: Math.max(ms, this.#open.startMs) })
    for (let i = this.#next; i < target; i++) {
      const t = this.#tokens[i]
      if (t) out.push({ text: t.text, startMs: ms, endMs: ms })
    }
    const t = openTarget ? this.#tokens[target] : undefined
    this.#open = t && { token: t, startMs: ms }
    this.#next = t ? target + 1 : target
    return out
  }
}

/** Samples below this are treated as silence when estimating where speech starts and ends. */
const SILENCE_THRESHOLD = 300

/**
 * For engines without word events (flite): spreads the words over the voiced part of the audio in
 * proportion to their length plus one (a word boundary costs time too). An estimate, documented as such.
 */
export function estimateWords(text: string, samples: Int16Array, sampleRate: number): EngineWord[] {
  const tokens = tokenize(text)
  if (tokens.length === 0) return []
  let first = samples.findIndex((s) => Math.abs(s) > SILENCE_THRESHOLD)
  let last = samples.findLastIndex((s) => Math.abs(s) > SILENCE_THRESHOLD)
  if (first < 0) [first, last] = [0, samples.length]
  const startMs = (first * 1000) / sampleRate
  const spanMs = ((last + 1 - first) * 1000) / sampleRate
  const weights = tokens.map((t) => [...t.text].length + 1)
  const total = weights.reduce((a, b) => a + b, 0)
  let acc = 0
  return tokens.map((t, i) => {
    const begin = startMs + (acc / total) * spanMs
    acc += weights[i] ?? 0
    return { text: t.text, startMs: begin, endMs: startMs + (acc / total) * spanMs }
  })
}
