import type { EnginePhoneme, EngineWord } from './engine.ts'

/** Stress marks are not phonemes: espeak writes them on the vowel (`ˈoʊ`), Cartesia-style output drops them. */
const STRESS = /[ˈˌ]/g

/**
 * Turns "phoneme P starts at T ms" marks (espeak's phoneme events) into phonemes with start and end:
 * a phoneme ends where the next mark starts. An empty symbol is a pause: it ends the open phoneme and
 * opens nothing, so silences are not attributed to a phoneme.
 */
export class PhonemeTracker {
  #open: { text: string; startMs: number } | undefined

  mark(symbol: string, ms: number): EnginePhoneme[] {
    const out = this.#close(ms)
    const text = symbol.replace(STRESS, '')
    this.#open = text.length > 0 ? { text, startMs: ms } : undefined
    return out
  }

  finish(ms: number): EnginePhoneme[] {
    const out = this.#close(ms)
    this.#open = undefined
    return out
  }

  #close(ms: number): EnginePhoneme[] {
    const o = this.#open
    return o ? [{ text: o.text, startMs: o.startMs, endMs: Math.max(o.startMs, ms) }] : []
  }
}

/** Flite's US English phone set (CMU, ARPAbet-like) in IPA. */
const ARPABET_IPA: Record<string, string> = {
  aa: 'ɑ',
  ae: 'æ',
  ah: 'ʌ',
  ao: 'ɔ',
  aw: 'aʊ',
  ax: 'ə',
  axr: 'ɚ',
  ay: 'aɪ',
  b: 'b',
  ch: 'tʃ',
  d: 'd',
  dh: 'ð',
  dx: 'ɾ',
  eh: 'ɛ',
  el: 'l̩',
  em: 'm̩',
  en: 'n̩',
  er: 'ɝ',
  ey: 'eɪ',
  f: 'f',
  g: 'ɡ',
  hh: 'h',
  ih: 'ɪ',
  ix: 'ɨ',
  iy: 'i',
  jh: 'dʒ',
  k: 'k',
  l: 'l',
  m: 'm',
  n: 'n',
  ng: 'ŋ',
  nx: 'ɾ̃',
  ow: 'oʊ',
  oy: 'ɔɪ',
  p: 'p',
  r: 'ɹ',
  s: 's',
  sh: 'ʃ',
  t: 't',
  th: 'θ',
  uh: 'ʊ',
  uw: 'u',
  v: 'v',
  w: 'w',
  y: 'j',
  z: 'z',
  zh: 'ʒ',
}

/**
 * Flite's `-psdur` output (`pau:0.164 hh:0.255 ax:0.304 …`: each phone and the second it ends at) as
 * phonemes in IPA; pauses are dropped. The times are the audio's (a `duration_stretch` shows in them).
 */
export function phonemesFromPsdur(output: string): EnginePhoneme[] {
  const out: EnginePhoneme[] = []
  let previousEnd = 0
  for (const m of output.matchAll(/([a-z]+):(\d+(?:\.\d+)?)/g)) {
    const endMs = Number(m[2]) * 1000
    const phone = m[1] ?? ''
    if (phone !== 'pau' && phone !== 'h#')
      out.push({ text: ARPABET_IPA[phone] ?? phone, startMs: previousEnd, endMs: Math.max(previousEnd, endMs) })
    previousEnd = Math.max(previousEnd, endMs)
  }
  return out
}

/**
 * For an engine that reports no phonemes: each word's letters and digits spread evenly over the
 * word's time. An estimate from word timings (documented as such), so timings still cover the speech.
 */
export function estimatePhonemes(words: readonly EngineWord[]): EnginePhoneme[] {
  const out: EnginePhoneme[] = []
  for (const w of words) {
    const letters = [...w.text.toLowerCase()].filter((c) => /[\p{L}\p{N}]/u.test(c))
    const step = letters.length > 0 ? (w.endMs - w.startMs) / letters.length : 0
    letters.forEach((c, i) => out.push({ text: c, startMs: w.startMs + i * step, endMs: w.startMs + (i + 1) * step }))
  }
  return out
}
