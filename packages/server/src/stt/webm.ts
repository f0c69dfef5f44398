/**
 * The smallest WebM (Matroska) reader that gets Opus packets out of what browsers record with
 * `MediaRecorder` (`audio/webm;codecs=opus`): EBML elements, unknown-size segments and clusters,
 * SimpleBlocks and BlockGroups without lacing. Anything else is not what a browser sends.
 * It walks the file with a stack of its own, never recursion, nested at most `MAX_DEPTH` deep: a file
 * of elements nested 100,000 deep is refused, not a stack overflow.
 */
const ID = {
  segment: 0x18538067,
  cluster: 0x1f43b675,
  tracks: 0x1654ae6b,
  trackEntry: 0xae,
  trackNumber: 0xd7,
  codecId: 0x86,
  codecPrivate: 0x63a2,
  simpleBlock: 0xa3,
  blockGroup: 0xa0,
  block: 0xa1,
} as const
/** Containers this reader walks into; every other element is skipped whole (a TrackEntry is read flat). */
const MASTERS = new Set<number>([ID.segment, ID.cluster, ID.tracks, ID.blockGroup])
/** Segment › Cluster › BlockGroup › Block is as deep as a browser's file goes. */
export const MAX_DEPTH = 8

export interface WebmOpus {
  /** The `OpusHead` of the Opus track (channels, pre-skip). */
  head: Uint8Array
  /** The track's packets, read as they are asked for. */
  packets(): Generator<Uint8Array>
}

export class WebmError extends Error {}

function vint(bytes: Uint8Array, at: number, keepMarker: boolean): { value: number; length: number; unknown: boolean } {
  const first = bytes[at]
  if (first === undefined || first === 0) throw new WebmError('bad EBML variable-length integer')
  const length = Math.clz32(first) - 23
  if (at + length > bytes.length) throw new WebmError('truncated EBML element')
  let value = keepMarker ? first : first & (0xff >> length)
  let allOnes = value === 0xff >> length
  for (let i = 1; i < length; i++) {
    const b = bytes[at + i]!
    value = value * 256 + b
    allOnes &&= b === 0xff
  }
  return { value, length, unknown: !keepMarker && allOnes }
}

interface Element {
  id: number
  body: number
  end: number
}

/** The elements from `from` to `to` at one level, not descending. */
function* children(bytes: Uint8Array, from: number, to: number): Generator<Element> {
  for (let at = from; at < to; ) {
    const id = vint(bytes, at, true)
    const size = vint(bytes, at + id.length, false)
    const body = at + id.length + size.length
    const end = size.unknown ? to : Math.min(to, body + size.value)
    yield { id: id.value, body, end }
    at = Math.max(end, body)
  }
}

/**
 * Every element of the file in order, descending into `MASTERS`. An unknown-size element ends where its
 * parent does, or where an element with its own id begins (the next Cluster of a live recording is
 * its sibling, not its child).
 */
function* walk(bytes: Uint8Array): Generator<Element> {
  const open: { id: number; end: number; unknown: boolean }[] = [{ id: 0, end: bytes.length, unknown: false }]
  let at = 0
  while (open.length > 0) {
    const to = open.at(-1)!.end
    if (at >= to) {
      open.pop()
      continue
    }
    const id = vint(bytes, at, true)
    const sibling = open.findIndex((o) => o.unknown && o.id === id.value)
    if (sibling > 0) {
      open.length = sibling
      continue
    }
    const size = vint(bytes, at + id.length, false)
    const body = Math.min(at + id.length + size.length, to)
    const end = size.unknown ? to : Math.min(to, body + size.value)
    yield { id: id.value, body, end }
    if (MASTERS.has(id.value)) {
      if (open.length > MAX_DEPTH) throw new WebmError(`elements nested deeper than ${MAX_DEPTH}`)
      open.push({ id: id.value, end, unknown: size.unknown })
      at = body
    } else at = Math.max(end, body)
  }
}

export function readWebmOpus(bytes: Uint8Array): WebmOpus {
  let opus: { number: number; head: Uint8Array } | undefined
  for (const el of walk(bytes)) {
    if (el.id !== ID.trackEntry) continue
    const track: { number?: number; codec?: string; priv?: Uint8Array } = {}
    for (const c of children(bytes, el.body, el.end)) {
      if (c.id === ID.trackNumber && c.end > c.body) track.number = bytes[c.end - 1]!
      else if (c.id === ID.codecId) track.codec = Buffer.from(bytes.subarray(c.body, c.end)).toString('latin1')
      else if (c.id === ID.codecPrivate) track.priv = bytes.subarray(c.body, c.end)
    }
    if (track.codec === 'A_OPUS' && track.priv && track.number !== undefined) {
      opus = { number: track.number, head: track.priv }
      break
    }
  }
  if (!opus) throw new WebmError('no Opus audio track')
  const { number, head } = opus
  return {
    head,
    *packets() {
      for (const el of walk(bytes)) {
        if (el.id !== ID.simpleBlock && el.id !== ID.block) continue
        const block = readBlock(bytes.subarray(el.body, el.end))
        if (block.track === number) yield block.data
      }
    },
  }
}

function readBlock(block: Uint8Array): { track: number; data: Uint8Array } {
  const track = vint(block, 0, false)
  const flags = block[track.length + 2]
  if (flags === undefined) throw new WebmError('truncated block')
  if (flags & 0x06) throw new WebmError('laced blocks are not supported')
  return { track: track.value, data: block.subarray(track.length + 3) }
}
