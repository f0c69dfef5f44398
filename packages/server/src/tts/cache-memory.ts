import { type CachedAudio, type FilledAudio, TTS_CACHE_MAX_ENTRY_BYTES, type TtsCacheStore } from './cache.ts'

/**
 * A memory entry, in use order: a doubly linked list, least recently used at its head. Its chunks
 * stay as the fill gave them until the first hit joins them into one (most entries are never hit).
 */
interface MemoryEntry {
  key: string
  contentType: string
  chunks: readonly Buffer[]
  bytes: number
  audioMs: number
  prev: MemoryEntry | undefined
  next: MemoryEntry | undefined
}

/**
 * The cache of one instance: least recently used out first, within `maxBytes` (the answers' bytes).
 * The use order is a linked list beside the Map, not the Map's own order: evicting from the front of a
 * Map that is deleted from and added to all the time walks the holes its deletions leave (V8 compacts
 * them only when the table fills), thousands of them per request once the cache is full.
 */
export class MemoryTtsCache implements TtsCacheStore {
  readonly #entries = new Map<string, MemoryEntry>()
  #head: MemoryEntry | undefined
  #tail: MemoryEntry | undefined
  #bytes = 0

  constructor(private readonly maxBytes: number) {}

  async get(key: string): Promise<CachedAudio | undefined> {
    const entry = this.#entries.get(key)
    if (!entry) return undefined
    this.#unlink(entry)
    this.#append(entry)
    // Joined once, here: a miss kept the relayed chunks as they came; a hit is sent as one buffer.
    if (entry.chunks.length !== 1) entry.chunks = [Buffer.concat(entry.chunks, entry.bytes)]
    return { contentType: entry.contentType, body: entry.chunks[0]!, audioMs: entry.audioMs }
  }

  async set(key: string, filled: FilledAudio): Promise<void> {
    if (filled.bytes > Math.min(this.maxBytes, TTS_CACHE_MAX_ENTRY_BYTES)) return
    const old = this.#entries.get(key)
    if (old) this.#remove(old)
    const { contentType, chunks, bytes, audioMs } = filled
    const entry: MemoryEntry = { key, contentType, chunks, bytes, audioMs, prev: undefined, next: undefined }
    this.#entries.set(key, entry)
    this.#append(entry)
    this.#bytes += bytes
    while (this.#bytes > this.maxBytes && this.#head) this.#remove(this.#head)
  }

  /** Bytes held now. */
  get bytes(): number {
    return this.#bytes
  }

  #remove(entry: MemoryEntry): void {
    this.#unlink(entry)
    this.#entries.delete(entry.key)
    this.#bytes -= entry.bytes
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
