import { BlockArena } from './cache-blocks.ts'
import { type CachedAudio, type FilledAudio, TTS_CACHE_MAX_ENTRY_BYTES, type TtsCacheStore } from './cache.ts'

/**
 * The block an answer's bytes are counted in. 4 KiB: an answer wastes under one block (half of one on
 * average: 2 KiB, about 12 % of a 17 KB sentence of 24 kHz PCM, less for longer answers), and a 64 MB
 * cache is 16,384 blocks.
 */
export const TTS_CACHE_BLOCK_BYTES = 4096

export interface MemoryTtsCacheOptions {
  /** `--tts-cache-mb` in bytes: the whole blocks held never exceed it. */
  maxBytes: number
  /** @default TTS_CACHE_BLOCK_BYTES */
  blockBytes?: number
}

/** A memory entry, in use order: a doubly linked list, least recently used at its head. Its bytes are a chain of blocks. */
interface MemoryEntry {
  key: string
  contentType: string
  first: number
  last: number
  blocks: number
  bytes: number
  audioMs: number
  prev: MemoryEntry | undefined
  next: MemoryEntry | undefined
}

/**
 * The cache of one instance: least recently used out first, within `maxBytes` counted as the whole
 * blocks its answers take (tts/cache-blocks.ts: the answers live in a block arena, not in a buffer
 * each). An answer larger than the cache or than TTS_CACHE_MAX_ENTRY_BYTES is not kept. A hit is a
 * copy out of the blocks. The use order is a linked list beside the Map, not the Map's own order:
 * evicting from the front of a Map that is deleted from and added to all the time walks the holes its
 * deletions leave (V8 compacts them only when the table fills).
 */
export class MemoryTtsCache implements TtsCacheStore {
  readonly #entries = new Map<string, MemoryEntry>()
  readonly #arena: BlockArena
  #head: MemoryEntry | undefined
  #tail: MemoryEntry | undefined

  constructor(options: MemoryTtsCacheOptions) {
    this.#arena = new BlockArena({
      totalBytes: options.maxBytes,
      blockBytes: options.blockBytes ?? TTS_CACHE_BLOCK_BYTES,
    })
  }

  async get(key: string): Promise<CachedAudio | undefined> {
    const entry = this.#entries.get(key)
    if (!entry) return undefined
    this.#unlink(entry)
    this.#append(entry)
    // A copy: the blocks are another answer's as soon as this one is evicted, maybe while it is still sent.
    const body = this.#arena.read(entry.first, entry.bytes)
    return { contentType: entry.contentType, body, audioMs: entry.audioMs }
  }

  async set(key: string, filled: FilledAudio): Promise<void> {
    const blocks = this.#arena.blocksFor(filled.bytes)
    if (filled.bytes > TTS_CACHE_MAX_ENTRY_BYTES || blocks > this.#arena.blocks) return
    const old = this.#entries.get(key)
    if (old) this.#remove(old)
    while (this.#arena.available < blocks && this.#head) this.#remove(this.#head)
    const first = this.#arena.allocate(blocks)!
    this.#arena.write(first, filled.chunks)
    const { contentType, bytes, audioMs } = filled
    const last = this.#arena.lastOf(first, blocks)
    const entry: MemoryEntry = {
      key,
      contentType,
      first,
      last,
      blocks,
      bytes,
      audioMs,
      prev: undefined,
      next: undefined,
    }
    this.#entries.set(key, entry)
    this.#append(entry)
  }

  /** Bytes held now: the whole blocks the entries take. */
  get bytes(): number {
    return (this.#arena.blocks - this.#arena.available) * this.#arena.blockBytes
  }

  #remove(entry: MemoryEntry): void {
    this.#unlink(entry)
    this.#entries.delete(entry.key)
    this.#arena.release(entry.first, entry.last, entry.blocks)
  }

  /** As the most recently used. */
  #append(entry: MemoryEntry): void {
    entry.prev = this.#tail
    entry.next = undefined
    if (this.#tail) this.#tail.next = entry
    else this.#head = entry
    this.#tail = entry
  }

  #unlink(entry: MemoryEntry): void {
    if (entry.prev) entry.prev.next = entry.next
    else this.#head = entry.next
    if (entry.next) entry.next.prev = entry.prev
    else this.#tail = entry.prev
  }
}
