/**
 * Sentence splitting for synthesis: engines are called one sentence at a time so the first audio
 * comes after one sentence, not after the whole text.
 */

/** A run-on "sentence" is cut at whitespace near this length, so no sentence buffers unboundedly. */
export const MAX_SENTENCE_CHARS = 400

/** Abbreviations Intl.Segmenter splits after ("Dr. Smith"): a sentence never ends on one of these. */
const ABBREVIATIONS = new Set([
  'mr',
  'mrs',
  'ms',
  'dr',
  'prof',
  'sr',
  'jr',
  'st',
  'mt',
  'vs',
  'no',
  'fig',
  'approx',
  'dept',
  'gen',
  'col',
  'capt',
  'lt',
  'sgt',
  'rev',
  'hon',
  'e.g',
  'i.e',
  'cf',
  'z.b',
  'd.h',
  'a.m',
  'p.m',
  'u.s',
  'u.k',
])

const segmenter = new Intl.Segmenter(undefined, { granularity: 'sentence' })

/** Abbreviations are short: only a segment's tail is examined, so the check costs O(1), not O(length). */
const TAIL_CHARS = 48

/** True when the text ends with an abbreviation or an initial ("J."), so the sentence goes on. */
function endsWithAbbreviation(segment: string): boolean {
  const m = /(?:^|[\s("'“‘])([\p{L}.]+)\.\s*$/u.exec(segment.slice(-TAIL_CHARS))
  if (!m?.[1]) return false
  const word = m[1].toLowerCase()
  return ABBREVIATIONS.has(word) || /^\p{Lu}$/u.test(m[1])
}

/** Segments `text` into sentences, keeping every character (whitespace stays with its sentence). */
function segments(text: string): string[] {
  const out: string[] = []
  // Whether the previous piece ended on an abbreviation: only the newest piece is examined, so a
  // text of many abbreviations costs linear time, not quadratic.
  let glue = false
  for (const { segment } of segmenter.segment(text)) {
    if (glue && out.length > 0) out[out.length - 1] += segment
    else out.push(segment)
    glue = endsWithAbbreviation(segment)
  }
  return out
}

/** Where to cut a run-on piece: the last whitespace before the cap, else the cap (never inside a surrogate pair). */
function cutIndex(piece: string): number {
  const ws = piece.slice(0, MAX_SENTENCE_CHARS + 1).search(/\s\S*$/u)
  if (ws > MAX_SENTENCE_CHARS / 4) return ws + 1
  const code = piece.charCodeAt(MAX_SENTENCE_CHARS - 1)
  return code >= 0xd800 && code <= 0xdbff ? MAX_SENTENCE_CHARS - 1 : MAX_SENTENCE_CHARS
}

function capLength(segment: string): string[] {
  const out: string[] = []
  let rest = segment
  while (rest.length > MAX_SENTENCE_CHARS) {
    const at = cutIndex(rest)
    out.push(rest.slice(0, at))
    rest = rest.slice(at)
  }
  out.push(rest)
  return out
}

/** The sentences of `text`, trimmed, without empty ones; none longer than MAX_SENTENCE_CHARS. */
export function splitSentences(text: string): string[] {
  return segments(text)
    .flatMap(capLength)
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
}

/** Sentence-final punctuation, optionally closed by quotes or brackets. */
const TERMINAL = /[.!?…。！？]["'”’)\]]*(\s*)$/u
const CJK_TERMINAL = /[。！？]["'”’)\]]*\s*$/u

/**
 * For text that arrives in pieces (WebSocket `continue: true`): splits `buffer` into a prefix made of
 * complete sentences and the rest, with `ready + rest === buffer`. The last sentence counts as
 * complete only when its punctuation is followed by whitespace ("3." may be "3.5"), or by nothing
 * after a CJK full stop; an overlong rest is cut at whitespace like any run-on sentence.
 */
export function takeCompleteSentences(buffer: string): { ready: string; rest: string } {
  const parts = segments(buffer)
  let last = parts.pop() ?? ''
  const m = TERMINAL.exec(last)
  const complete = !endsWithAbbreviation(last) && ((m !== null && (m[1] ?? '').length > 0) || CJK_TERMINAL.test(last))
  if (complete) {
    parts.push(last)
    last = ''
  }
  if (last.length > MAX_SENTENCE_CHARS) {
    const pieces = capLength(last)
    last = pieces.pop() ?? ''
    parts.push(...pieces)
  }
  return { ready: parts.join(''), rest: last }
}
