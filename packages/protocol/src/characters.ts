/**
 * The one definition of a "character" for every limit, budget and usage figure voxgate keeps: a
 * Unicode code point of transcript text, with Sonic-3 markup excluded. An emoji is one character (not
 * the two UTF-16 units `String.length` counts), and `<break time="1s"/>` is none: a tag is an
 * instruction to the voice, not text it speaks.
 *
 * This module imports nothing, so browsers and the app kit can use it without the schemas.
 */

/**
 * The tags of Cartesia's documented Sonic-3 markup, well-formed only: `<break time="1s"/>`,
 * `<speed ratio="1.5"/>`, `<volume ratio="0.5"/>`, `<emotion value="angry"/>` (self-closing or
 * opening), their closing tags, and `<spell>` … `</spell>`. Anything else (`a < b`, `<b>`) is text.
 */
export const MARKUP_TAG = /<(?:(?:break|speed|volume|emotion)(?:\s+[a-z_]+\s*=\s*"[^"<>]*")*\s*\/?|\/(?:break|speed|volume|emotion|spell)\s*|spell\s*)>/g

/** Transcript text with Sonic-3 markup removed (what is spoken, and what is counted). */
export function stripMarkup(text: string): string {
  return text.includes('<') ? text.replace(MARKUP_TAG, '') : text
}

/** The number of characters `text` counts for: Unicode code points, markup excluded. */
export function countCharacters(text: string): number {
  const spoken = stripMarkup(text)
  let n = 0
  for (let i = 0; i < spoken.length; i++) {
    const c = spoken.charCodeAt(i)
    // A high surrogate followed by a low one is one code point.
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < spoken.length) {
      const d = spoken.charCodeAt(i + 1)
      if (d >= 0xdc00 && d <= 0xdfff) i++
    }
    n++
  }
  return n
}
