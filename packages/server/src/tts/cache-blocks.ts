/** No block: the end of a chain, or the chain of an empty answer. */
export const NO_BLOCK = -1

/** Blocks per segment (a power of two: a block's segment is its number shifted). */
const SEGMENT_SHIFT = 12
const SEGMENT_BLOCKS = 1 << SEGMENT_SHIFT

/** One large buffer cut into blocks, and each block's successor in its chain. */
interface Segment {
  bytes: Uint8Array
  next: Int32Array
}

export interface BlockArenaOptions {
  /** The most it may hold: cut into `Math.floor(totalBytes / blockBytes)` blocks, a remainder left unused. */
  totalBytes: number
  /** The size of one block; an answer takes whole blocks. */
  blockBytes: number
}

/**
 * The memory TTS cache's bytes: fixed-size blocks cut from a few large buffers (segments of 4,096
 * blocks, made as the cache first grows into them), chained by block number, the free ones in one
 * chain of their own. An answer is copied into a chain of blocks and read back out as a copy.
 *
 * Why not a Buffer per answer: tens of thousands of separately allocated answers (a relayed answer
 * arrives as several body chunks, each its own allocation) are promoted through the young generation,
 * spread the malloc heap over the whole cache (every eviction frees into it, every fill takes from it):
 * the gateway's main thread spent 20–25 % more CPU a request at 64 MB than at 1 MB (docs/performance.md,
 * "Gateway mode"). Here the cache is a handful of objects whatever it holds, and a fill or an eviction
 * is a few numbers written in an Int32Array.
 *
 * A block is written again as soon as its answer is evicted: `read` hands out a copy, never a view,
 * so an answer still being sent cannot change under its reader (another tenant's fill would show).
 */
export class BlockArena {
  readonly blockBytes: number
  /** Blocks in all: the arena's capacity. */
  readonly blocks: number
  readonly #segments: Segment[] = []
  /** Blocks not yet in a segment (made on demand). */
  #unmade: number
  #free = NO_BLOCK
  #freeCount = 0

  constructor(options: BlockArenaOptions) {
    const { totalBytes, blockBytes } = options
    if (!Number.isSafeInteger(blockBytes) || blockBytes < 1) throw new TypeError('blockBytes: a whole number ≥ 1')
    if (!Number.isSafeInteger(totalBytes) || totalBytes < 0) throw new TypeError('totalBytes: a whole number ≥ 0')
    this.blockBytes = blockBytes
    this.blocks = Math.floor(totalBytes / blockBytes)
    // Block numbers are int32 (the chains are Int32Arrays).
    if (this.blocks > 2 ** 31 - 1) throw new TypeError('totalBytes / blockBytes: at most 2^31 - 1 blocks')
    this.#unmade = this.blocks
  }

  /** Blocks `bytes` bytes take. */
  blocksFor(bytes: number): number {
    return Math.ceil(bytes / this.blockBytes)
  }

  /** Blocks that `allocate` can hand out now. */
  get available(): number {
    return this.#freeCount + this.#unmade
  }

  /** A chain of `count` blocks (its first block; NO_BLOCK for none), or undefined when fewer are available. */
  allocate(count: number): number | undefined {
    if (count > this.available) return undefined
    while (this.#freeCount < count) this.#makeSegment()
    if (count === 0) return NO_BLOCK
    const first = this.#free
    let last = first
    for (let i = 1; i < count; i++) last = this.#nextOf(last)
    this.#free = this.#nextOf(last)
    this.#setNext(last, NO_BLOCK)
    this.#freeCount -= count
    return first
  }

  /** Gives back the chain from `first` to `last` (`count` blocks): they may be written again at once. */
  release(first: number, last: number, count: number): void {
    if (count === 0) return
    this.#setNext(last, this.#free)
    this.#free = first
    this.#freeCount += count
  }

  /** The last block of the chain from `first`, `count` blocks long. */
  lastOf(first: number, count: number): number {
    let block = first
    for (let i = 1; i < count; i++) block = this.#nextOf(block)
    return block
  }

  /** Copies `chunks`, in order, into the chain from `first` (long enough for them). */
  write(first: number, chunks: readonly Uint8Array[]): void {
    let block = first
    let at = 0
    for (const chunk of chunks) {
      for (let from = 0; from < chunk.length; ) {
        if (at === this.blockBytes) {
          block = this.#nextOf(block)
          at = 0
        }
        const n = Math.min(chunk.length - from, this.blockBytes - at)
        const segment = this.#segments[block >>> SEGMENT_SHIFT]!
        segment.bytes.set(chunk.subarray(from, from + n), this.#offsetOf(block) + at)
        from += n
        at += n
      }
    }
  }

  /** A copy of the first `bytes` bytes of the chain from `first`. */
  read(first: number, bytes: number): Buffer {
    const out = Buffer.allocUnsafe(bytes)
    let block = first
    for (let at = 0; at < bytes; at += this.blockBytes) {
      const n = Math.min(this.blockBytes, bytes - at)
      const start = this.#offsetOf(block)
      out.set(this.#segments[block >>> SEGMENT_SHIFT]!.bytes.subarray(start, start + n), at)
      block = this.#nextOf(block)
    }
    return out
  }

  /** The next segment, its blocks put on the free chain. */
  #makeSegment(): void {
    const base = this.#segments.length << SEGMENT_SHIFT
    const count = Math.min(SEGMENT_BLOCKS, this.#unmade)
    const next = new Int32Array(count)
    for (let i = 0; i < count - 1; i++) next[i] = base + i + 1
    next[count - 1] = this.#free
    this.#segments.push({ bytes: new Uint8Array(count * this.blockBytes), next })
    this.#free = base
    this.#freeCount += count
    this.#unmade -= count
  }

  #offsetOf(block: number): number {
    return (block & (SEGMENT_BLOCKS - 1)) * this.blockBytes
  }

  #nextOf(block: number): number {
    return this.#segments[block >>> SEGMENT_SHIFT]!.next[block & (SEGMENT_BLOCKS - 1)]!
  }

  #setNext(block: number, next: number): void {
    this.#segments[block >>> SEGMENT_SHIFT]!.next[block & (SEGMENT_BLOCKS - 1)] = next
  }
}
