/**
 * The smallest WebM (Matroska) reader that gets Opus packets out of what browsers record with
 * `MediaRecorder` (`audio/webm;codecs=opus`): EBML elements, unknown-size segments and clusters,
 * SimpleBlocks and BlockGroups without lacing. Anything else is not what a browser sends.
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
/** Containers this reader walks into; every other element is skipped whole. */
const MASTERS = new Set<number>([ID.segment, ID.cluster, ID.tracks, ID.trackEntry, ID.blockGroup])

export interface WebmOpus {
  /** The `OpusHead` of the Opus track (channels, pre-skip). */
  head: Uint8Array
  packets: Uint8Array[]
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

export function readWebmOpus(bytes: Uint8Array): WebmOpus {
  const tracks = new Map<number, { codec?: string; priv?: Uint8Array }>()
  let current: { number?: number; codec?: string; priv?: Uint8Array } | undefined
  const blocks: { track: number; data: Uint8Array }[] = []

  const walk = (from: number, to: number): void => {
    for (let at = from; at < to; ) {
      const id = vint(bytes, at, true)
      const size = vint(bytes, at + id.length, false)
      const body = at + id.length + size.length
      const end = size.unknown ? to : Math.min(to, body + size.value)
      if (id.value === ID.trackEntry) {
        current = {}
        walk(body, end)
        if (current.number !== undefined) tracks.set(current.number, current)
      } else if (MASTERS.has(id.value)) walk(body, end)
      else if (id.value === ID.trackNumber && current) current.number = bytes[end - 1]!
      else if (id.value === ID.codecId && current)
        current.codec = Buffer.from(bytes.subarray(body, end)).toString('latin1')
      else if (id.value === ID.codecPrivate && current) current.priv = bytes.subarray(body, end)
      else if (id.value === ID.simpleBlock || id.value === ID.block) blocks.push(readBlock(bytes.subarray(body, end)))
      at = end
    }
  }
  walk(0, bytes.length)
  const opus = [...tracks].find(([, t]) => t.codec === 'A_OPUS')
  if (!opus || !opus[1].priv) throw new WebmError('no Opus audio track')
  return { head: opus[1].priv, packets: blocks.filter((b) => b.track === opus[0]).map((b) => b.data) }
}

function readBlock(block: Uint8Array): { track: number; data: Uint8Array } {
  const track = vint(block, 0, false)
  const flags = block[track.length + 2]
  if (flags === undefined) throw new WebmError('truncated block')
  if (flags & 0x06) throw new WebmError('laced blocks are not supported')
  return { track: track.value, data: block.subarray(track.length + 3) }
}
