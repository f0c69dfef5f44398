/** A voices answer as the upstream sent it: relayed as is, body and type. */
export interface CachedAnswer {
  contentType: string
  body: Buffer
}

export interface VoiceCacheOptions {
  /** @default 30000 */
  ttlMs?: number
  /** @default 256 */
  maxEntries?: number
  /** Answers larger than this are relayed but not kept, so the cache holds at most entries × this. @default 1 MiB */
  maxEntryBytes?: number
  now?: () => number
}

/**
 * The upstream's voice catalogue, cached briefly (a voice picker lists voices on every page load;
 * the upstream need not hear each one). Keyed by path, query and Cartesia-Version, as the answer
 * depends on all three; bounded in entries (the oldest goes first), in entry size and in age.
 * Concurrent misses for one key share one upstream request. Failures are not cached.
 */
export class VoiceCache {
  readonly #entries = new Map<string, { at: number; answer: Promise<CachedAnswer> }>()
  readonly #ttlMs: number
  readonly #max: number
  readonly #maxBytes: number
  readonly #now: () => number

  constructor(options: VoiceCacheOptions = {}) {
    this.#ttlMs = options.ttlMs ?? 30_000
    this.#max = options.maxEntries ?? 256
    this.#maxBytes = options.maxEntryBytes ?? 1024 * 1024
    this.#now = options.now ?? Date.now
  }

  get(key: string, fetch: () => Promise<CachedAnswer>): Promise<CachedAnswer> {
    const now = this.#now()
    const hit = this.#entries.get(key)
    if (hit && now - hit.at < this.#ttlMs) return hit.answer
    this.#entries.delete(key)
    const answer = fetch()
    const drop = () => {
      if (this.#entries.get(key)?.answer === answer) this.#entries.delete(key)
    }
    answer.then((a) => a.body.length > this.#maxBytes && drop(), drop)
    this.#entries.set(key, { at: now, answer })
    if (this.#entries.size > this.#max) this.#entries.delete(this.#entries.keys().next().value!)
    return answer
  }
}
