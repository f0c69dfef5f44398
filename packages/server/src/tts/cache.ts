import { sha256Hex } from '../sha256.ts'
import type { RedisConnection } from '../shared/redis.ts'

/** The largest answer the TTS cache keeps: longer audio is streamed as ever and not kept. */
export const TTS_CACHE_MAX_ENTRY_BYTES = 5 * 1024 * 1024

/** One rendered answer, as it was sent. */
export interface CachedAudio {
  contentType: string
  body: Buffer
  /** Milliseconds of audio in it, for the ledger's `audio_seconds_produced` of a hit. */
  audioMs: number
}

/**
 * An answer as a fill hands it to a store: its chunks as they were sent (a relayed answer's own body
 * chunks, or copies: see CacheFill) and their total size. The store copies them; it keeps no chunk.
 */
export interface FilledAudio {
  contentType: string
  chunks: readonly Buffer[]
  bytes: number
  audioMs: number
}

/** Where entries live: this process's memory, or Redis (shared by every instance, under the same cap). */
export interface TtsCacheStore {
  get(key: string): Promise<CachedAudio | undefined>
  set(key: string, entry: FilledAudio): Promise<void>
}

/** What shapes a cache key besides the request: who may share the entry, and which route's shape it has. */
export interface CacheKeyInput {
  /** `/tts/bytes` or `/v1/audio/speech` (the same audio in another shape is another entry). */
  route: string
  /** The API key that minted the caller's token (or the caller's key); left out with scope `global`. */
  keyId: string
  /** The relayed request's `Cartesia-Version` (the upstream may speak differently per version). */
  version?: string | undefined
  /** The request body, as validated: everything in it that shapes the audio. */
  body: Record<string, unknown>
}

/** Fields of a TTS body that never change the audio: they are not part of the key. */
const NOT_AUDIO = new Set(['context_id', 'save', 'stream', 'stream_format'])

export interface TtsCacheOptions {
  store: TtsCacheStore
  /** `key`: one cache per API key, so one app cannot learn from a fast answer what another synthesized. */
  scope: 'key' | 'global'
  /** `--tts-cache-free`: a hit costs the token's budget and the quotas nothing (the ledger still counts it). */
  free: boolean
}

/**
 * The TTS cache (`--tts-cache-mb`): rendered `/tts/bytes` (and `/v1/audio/speech`) answers kept by a
 * key that is the SHA-256 of a canonical form of everything that shapes the audio: the route, the
 * body's fields (model, voice, transcript, language, output format, generation config and any other,
 * keys sorted at every depth, `context_id` left out), the upstream API version when relayed, and the
 * minting API key's id unless the scope is global. Never a token: a token is not in the body, and
 * the key is a hash, so nothing of a request can be read back from it.
 */
export class TtsCache {
  constructor(private readonly options: TtsCacheOptions) {}

  get free(): boolean {
    return this.options.free
  }

  keyOf(input: CacheKeyInput): string {
    const scope = this.options.scope === 'key' ? input.keyId : '*'
    // canonicalJson({ route, scope, version, body: the body less NOT_AUDIO }), written out: its keys
    // in sorted order, without building the filtered copy (a key is computed on every request).
    const canonical = `{"body":${canonicalObject(input.body, NOT_AUDIO)},"route":${JSON.stringify(input.route)},"scope":${JSON.stringify(scope)},"version":${JSON.stringify(input.version ?? null)}}`
    return sha256Hex(canonical)
  }

  get(key: string): Promise<CachedAudio | undefined> {
    return this.options.store.get(key)
  }

  /** Collects an answer as it is sent; kept once it was sent whole (`complete`), if it fits. */
  fill(key: string): CacheFill {
    return new CacheFill((entry) => void this.options.store.set(key, entry).catch(() => undefined))
  }
}

/**
 * An answer being collected for the cache while it streams; dropped past the entry limit or when cut.
 * Chunks are held until `complete`, then handed to the store, which copies them into its own memory
 * (the memory store's blocks, or one string for Redis): nothing of them is kept past that.
 */
export class CacheFill {
  #chunks: Buffer[] = []
  #size = 0
  #audioMs = 0
  #tooLarge = false

  constructor(private readonly keep: (entry: FilledAudio) => void) {}

  /** A chunk whose memory its sender may write again (an engine's or an encoder's buffer): copied now. */
  add(chunk: Buffer, audioMs = 0): void {
    if (this.#fits(chunk, audioMs)) this.#chunks.push(Buffer.from(chunk))
  }

  /**
   * A chunk nobody writes to again, held as it is until `complete`: an upstream answer's body chunk
   * (Node's HTTP parser gives each its own copy), so a relayed answer is copied once, into the store.
   */
  addOwned(chunk: Buffer, audioMs = 0): void {
    if (this.#fits(chunk, audioMs)) this.#chunks.push(chunk)
  }

  /** The answer went out whole: it is handed to the store. */
  complete(contentType: string, audioMs = this.#audioMs): void {
    if (this.#tooLarge) return
    this.keep({ contentType, chunks: this.#chunks, bytes: this.#size, audioMs: Math.round(audioMs) })
    this.#chunks = []
  }

  /** Counts `chunk` in; false (and nothing held any more) once the answer is past the entry limit. */
  #fits(chunk: Buffer, audioMs: number): boolean {
    if (this.#tooLarge) return false
    this.#size += chunk.length
    this.#audioMs += audioMs
    if (this.#size <= TTS_CACHE_MAX_ENTRY_BYTES) return true
    this.#tooLarge = true
    this.#chunks = []
    return false
  }
}

/**
 * JSON with object keys sorted at every depth: the same request always gives the same text. Written
 * with loops and one string (it runs on every request); the text is pinned by tts-cache-key.test.ts.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value)
  if (!Array.isArray(value)) return canonicalObject(value as Record<string, unknown>)
  let out = '['
  for (let i = 0; i < value.length; i++) out += `${i === 0 ? '' : ','}${canonicalJson(value[i]) ?? ''}`
  return `${out}]`
}

/** An object's canonical JSON: keys in code-unit order (`sort`'s own), undefined values and `skip`'s keys left out. */
function canonicalObject(value: Record<string, unknown>, skip?: ReadonlySet<string>): string {
  let out = '{'
  for (const k of Object.keys(value).sort()) {
    const v = value[k]
    if (v === undefined || skip?.has(k)) continue
    out += `${out.length === 1 ? '' : ','}${JSON.stringify(k)}:${canonicalJson(v)}`
  }
  return `${out}}`
}

/**
 * set: KEYS entry, use order (sorted set), total bytes; ARGV content type, audio ms, body (base64),
 * its size, now, the cap. The entry is stored and the least recently used go until the total fits.
 */
const SET = `if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], 'ct', ARGV[1], 'ms', ARGV[2], 'body', ARGV[3], 'size', ARGV[4])
  redis.call('INCRBY', KEYS[3], ARGV[4])
end
redis.call('ZADD', KEYS[2], ARGV[5], KEYS[1])
local total = tonumber(redis.call('GET', KEYS[3]) or '0')
while total > tonumber(ARGV[6]) do
  local oldest = redis.call('ZRANGE', KEYS[2], 0, 0)[1]
  if not oldest then break end
  local size = tonumber(redis.call('HGET', oldest, 'size') or '0')
  redis.call('DEL', oldest)
  redis.call('ZREM', KEYS[2], oldest)
  total = redis.call('DECRBY', KEYS[3], size)
end
return total`

/** get: KEYS entry, use order; ARGV now. The entry's fields, its use recorded. */
const GET = `local e = redis.call('HMGET', KEYS[1], 'ct', 'ms', 'body')
if not e[3] then return nil end
redis.call('ZADD', KEYS[2], ARGV[1], KEYS[1])
return e`

/**
 * The cache shared by every instance through Redis (`--tts-cache-redis`), under its own cap (the
 * same `--tts-cache-mb`, counted as stored: base64, so a third more than the audio). Redis
 * unreachable, the cache is simply missed: speech goes on uncached.
 */
export class RedisTtsCache implements TtsCacheStore {
  constructor(
    private readonly redis: RedisConnection,
    private readonly maxBytes: number,
    private readonly now: () => number,
  ) {}

  async get(key: string): Promise<CachedAudio | undefined> {
    try {
      const r = (await this.redis.call(
        (c) => c.eval(GET, { keys: [this.#entry(key), this.#order()], arguments: [String(this.now())] }),
        'tts cache',
      )) as [string, string, string] | null
      if (!r) return undefined
      return { contentType: r[0], audioMs: Number(r[1]), body: Buffer.from(r[2], 'base64') }
    } catch {
      return undefined
    }
  }

  async set(key: string, entry: FilledAudio): Promise<void> {
    const whole = entry.chunks.length === 1 ? entry.chunks[0]! : Buffer.concat(entry.chunks, entry.bytes)
    const body = whole.toString('base64')
    if (body.length > this.maxBytes) return
    const keys = [this.#entry(key), this.#order(), this.redis.key('ttscache', 'bytes')]
    const args = [entry.contentType, String(entry.audioMs), body, String(body.length), String(this.now())]
    await this.redis.call((c) => c.eval(SET, { keys, arguments: [...args, String(this.maxBytes)] }), 'tts cache')
  }

  #entry(key: string): string {
    return this.redis.key('ttscache', 'entry', key)
  }

  #order(): string {
    return this.redis.key('ttscache', 'order')
  }
}
