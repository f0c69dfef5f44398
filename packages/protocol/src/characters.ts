/**
 * The one definition of a "character" for every limit, budget and usage figure voxgate keeps: a
 * Unicode code point of spoken transcript text, Sonic-3 markup excluded. An emoji is one character
 * (not the two UTF-16 units `String.length` counts), and `<break time="1s"/>` is none: a tag is an
 * instruction to the voice, not text it speaks.
 *
 * It also holds the one reading of that markup (`parseMarkup`), so what is counted and what is
 * spoken can never disagree. This module imports nothing, so browsers and the app kit can use it
 * without the schemas.
 */

/** Longest silence one `<break>` asks for; longer values are cut to this. */
export const BREAK_MAX_MS = 10_000
/** Cartesia's documented ranges for the `ratio` of `<speed>` and `<volume>`; values outside are clamped. */
export const SPEED_RATIO_MIN = 0.6
export const SPEED_RATIO_MAX = 1.5
export const VOLUME_RATIO_MIN = 0.5
export const VOLUME_RATIO_MAX = 2

/**
 * Anything shaped like a tag: `<name attr="v" …>`, `</name>`, `<name …/>`. Only Cartesia's documented
 * tags, well-formed, are markup that does something; every other tag-shaped piece (`<b>`,
 * `<break time=1s/>`, `<breakfast/>`) is dropped: neither spoken nor counted. Text that is not
 * tag-shaped (`a < b`, `5<6`) is text.
 */
export const TAG_SHAPE =
  /<\/?[A-Za-z][\w-]*(?:\s+[A-Za-z_][\w:.-]*(?:\s*=\s*(?:"[^"<>]*"|'[^'<>]*'|[^\s"'<>=/]+))?)*\s*\/?>/g

const ATTRIBUTE = /([A-Za-z_][\w:.-]*)(?:\s*=\s*(?:"([^"<>]*)"|'([^'<>]*)'|([^\s"'<>=/]+)))?/g
const BREAK_TIME = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(ms|s)\s*$/
const RATIO = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*$/
const TAG_NAMES = ['break', 'speed', 'volume', 'emotion', 'spell'] as const

/** The markup in force at a point of the text. Stacks: [0] is set by self-closing tags, the rest by open paired tags. */
export interface MarkupState {
  speed: number[]
  volume: number[]
  /** How many `<spell>` are open. */
  spell: number
}

export interface TextPiece {
  kind: 'text'
  text: string
  /** The `<speed>` ratio in force (1 = normal). */
  speed: number
  /** The `<volume>` ratio in force (1 = as synthesized). */
  volume: number
  /** Inside `<spell>`: letters and digits are to be read one by one. */
  spell: boolean
}

export interface BreakPiece {
  kind: 'break'
  /** Silence to insert, 0..BREAK_MAX_MS. */
  ms: number
}

export type MarkupPiece = TextPiece | BreakPiece

export const initialMarkupState = (): MarkupState => ({ speed: [1], volume: [1], spell: 0 })

const top = (stack: number[]) => stack[stack.length - 1] ?? 1
const clamp = (v: number, min: number, max: number) => Math.min(max, Math.max(min, v))

interface Tag {
  name: string
  closing: boolean
  selfClosing: boolean
  attrs: Map<string, string> | undefined
}

function readTag(raw: string): Tag {
  const closing = raw.startsWith('</')
  const name = /^<\/?([A-Za-z][\w-]*)/.exec(raw)?.[1] ?? ''
  const selfClosing = raw.endsWith('/>')
  const attrs = new Map<string, string>()
  const body = raw.slice(name.length + (closing ? 2 : 1), selfClosing ? -2 : -1)
  for (const m of body.matchAll(ATTRIBUTE)) {
    const value = m[2] ?? m[3]
    // Unquoted or missing values are not Cartesia's syntax; a repeated attribute is ambiguous.
    if (value === undefined || attrs.has(m[1] ?? '')) return { name, closing, selfClosing, attrs: undefined }
    attrs.set(m[1] ?? '', value)
  }
  return { name, closing, selfClosing, attrs }
}

/** The single attribute `key` of a tag, or undefined when the tag has anything else. */
function only(tag: Tag, key: string): string | undefined {
  return tag.attrs?.size === 1 ? tag.attrs.get(key) : undefined
}

/** Applies one tag-shaped piece to `state`; returns the silence it asks for (ms), if any. */
function applyTag(raw: string, state: MarkupState): number | undefined {
  const tag = readTag(raw)
  if (tag.attrs === undefined) return undefined
  const bare = tag.attrs.size === 0
  if (tag.closing) {
    if (!bare || tag.selfClosing) return undefined
    if (tag.name === 'speed' && state.speed.length > 1) state.speed.pop()
    if (tag.name === 'volume' && state.volume.length > 1) state.volume.pop()
    if (tag.name === 'spell') state.spell = Math.max(0, state.spell - 1)
    return undefined
  }
  switch (tag.name) {
    case 'break': {
      const m = BREAK_TIME.exec(only(tag, 'time') ?? '')
      if (!m) return undefined
      const ms = Number(m[1]) * (m[2] === 's' ? 1000 : 1)
      return clamp(Math.round(ms), 0, BREAK_MAX_MS)
    }
    case 'speed':
    case 'volume': {
      const m = RATIO.exec(only(tag, 'ratio') ?? '')
      if (!m) return undefined
      const ratio =
        tag.name === 'speed'
          ? clamp(Number(m[1]), SPEED_RATIO_MIN, SPEED_RATIO_MAX)
          : clamp(Number(m[1]), VOLUME_RATIO_MIN, VOLUME_RATIO_MAX)
      const stack = state[tag.name]
      if (tag.selfClosing) stack[stack.length - 1] = ratio
      else stack.push(ratio)
      return undefined
    }
    case 'spell':
      if (bare && !tag.selfClosing) state.spell += 1
      return undefined
    default:
      // `<emotion value="…"/>` is accepted and has no effect; unknown tags are dropped.
      return undefined
  }
}

/** A tag cut off by the end of the text (`…<break time="1`), which no later text can complete. */
const TRAILING_TAG = new RegExp(`<\\/?(?:${TAG_NAMES.join('|')})(?:[\\s/][^<>]*)?$`)

/**
 * Reads Cartesia's Sonic-3 markup: text pieces with the speed, volume and spelling in force, and
 * breaks. Adjacent text under the same settings is one piece (an `<emotion>` tag, or a dropped tag,
 * never splits text). `state` carries the markup in force across pieces of a streamed text (it is
 * not changed; the state at the end is returned).
 */
export function parseMarkup(
  text: string,
  state: MarkupState = initialMarkupState(),
): { pieces: MarkupPiece[]; state: MarkupState } {
  const s: MarkupState = { speed: [...state.speed], volume: [...state.volume], spell: state.spell }
  const pieces: MarkupPiece[] = []
  const addText = (t: string) => {
    if (t.length === 0) return
    const speed = top(s.speed)
    const volume = top(s.volume)
    const spell = s.spell > 0
    const last = pieces[pieces.length - 1]
    if (last?.kind === 'text' && last.speed === speed && last.volume === volume && last.spell === spell) last.text += t
    else pieces.push({ kind: 'text', text: t, speed, volume, spell })
  }
  let at = 0
  if (text.includes('<')) {
    for (const m of text.matchAll(TAG_SHAPE)) {
      addText(text.slice(at, m.index))
      at = m.index + m[0].length
      const ms = applyTag(m[0], s)
      if (ms !== undefined) pieces.push({ kind: 'break', ms })
    }
  }
  const rest = text.slice(at)
  const cut = TRAILING_TAG.exec(rest)
  addText(cut ? rest.slice(0, cut.index) : rest)
  return { pieces, state: s }
}

/** Tags that put `state` back in force at the start of a later piece of the same streamed text. */
export function markupPrefix(state: MarkupState): string {
  const [speed = 1, ...speeds] = state.speed
  const [volume = 1, ...volumes] = state.volume
  return (
    (speed !== 1 ? `<speed ratio="${speed}"/>` : '') +
    speeds.map((r) => `<speed ratio="${r}">`).join('') +
    (volume !== 1 ? `<volume ratio="${volume}"/>` : '') +
    volumes.map((r) => `<volume ratio="${r}">`).join('') +
    '<spell>'.repeat(state.spell)
  )
}

/** Tags longer than this are not waited for: text that long after a `<` is not one. */
const UNFINISHED_MAX_CHARS = 256

/**
 * Where a tag that has begun but not ended sits at the end of `text` (`Hi <bre`, `<speed ratio="1.`),
 * or -1: a streamed text holds that tail back until the next piece completes it.
 */
export function unfinishedTagStart(text: string): number {
  const at = text.lastIndexOf('<')
  if (at < 0 || text.length - at > UNFINISHED_MAX_CHARS || text.includes('>', at)) return -1
  const tail = text.slice(at + 1).replace(/^\//, '')
  const name = /^[A-Za-z]*/.exec(tail)?.[0] ?? ''
  const known = TAG_NAMES.some((n) => (name.length === tail.length ? n.startsWith(name.toLowerCase()) : n === name))
  return known ? at : -1
}

/** Transcript text with Sonic-3 markup removed: exactly the text that is spoken, and counted. */
export function stripMarkup(text: string): string {
  if (!text.includes('<')) return text
  let out = ''
  for (const p of parseMarkup(text).pieces) if (p.kind === 'text') out += p.text
  return out
}

/**
 * Which tag-shaped text is free of charge. `any` (voxgate's own engines): every tag-shaped piece,
 * which they never speak. `known` (a gateway, whose upstream may read aloud what voxgate's engines
 * drop): only Cartesia's tags voxgate knows, each with attribute values of their own syntax and
 * length; every character of any other tag-shaped text, or of a known tag past its syntax, counts.
 */
export type MarkupRule = 'any' | 'known'

/** A known tag longer than this is not markup but padding: `<break time="1s"/>` needs 18. */
const KNOWN_TAG_MAX_CHARS = 64
/** The attribute each known tag takes, and its value's syntax (bounded, unlike the local reading's). */
const KNOWN_ATTRIBUTES: Record<string, { key: string; value: RegExp } | undefined> = {
  break: { key: 'time', value: /^(?:\d{1,5}(?:\.\d{1,3})?|\.\d{1,3})(?:ms|s)$/ },
  speed: { key: 'ratio', value: /^(?:\d{1,2}(?:\.\d{1,3})?|\.\d{1,3})$/ },
  volume: { key: 'ratio', value: /^(?:\d{1,2}(?:\.\d{1,3})?|\.\d{1,3})$/ },
  emotion: { key: 'value', value: /^[A-Za-z][\w:-]{0,31}$/ },
}

/** Whether a tag-shaped piece is one of Cartesia's tags as documented (the `known` rule's markup). */
function isKnownTag(raw: string): boolean {
  if (raw.length > KNOWN_TAG_MAX_CHARS) return false
  const tag = readTag(raw)
  if (tag.attrs === undefined || !(TAG_NAMES as readonly string[]).includes(tag.name)) return false
  const bare = tag.attrs.size === 0
  // `</speed>`, `</volume>`, `</spell>`, `</emotion>`; `<spell>` opens with no attribute.
  if (tag.closing) return bare && !tag.selfClosing && tag.name !== 'break'
  if (tag.name === 'spell') return bare && !tag.selfClosing
  const want = KNOWN_ATTRIBUTES[tag.name]
  if (want === undefined) return false
  const value = only(tag, want.key)
  return value !== undefined && want.value.test(value)
}

/** `text` with only the known tags removed: what a gateway counts (tag-shaped text it does not know stays). */
function stripKnownMarkup(text: string): string {
  if (!text.includes('<')) return text
  return text.replace(TAG_SHAPE, (raw) => (isKnownTag(raw) ? '' : raw))
}

/**
 * The number of characters `text` counts for: Unicode code points of its spoken text, markup (as
 * `markup` reads it) excluded.
 */
export function countCharacters(text: string, markup: MarkupRule = 'any'): number {
  const spoken = markup === 'known' ? stripKnownMarkup(text) : stripMarkup(text)
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
