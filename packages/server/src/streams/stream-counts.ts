import type { Clock } from '../clock.ts'
import { randomId } from '../ids.ts'
import type { RedisConnection } from '../shared/redis.ts'
import type { StreamRegistry, StreamTransport } from './registry.ts'

/** How often each instance publishes its open streams to Redis. */
export const STREAM_COUNTS_PUBLISH_MS = 1000
/** An instance not heard from for this long has stopped (or lost Redis): its streams no longer count. */
const STALE_MS = 3 * STREAM_COUNTS_PUBLISH_MS
/** Groups (transport, key, `sub`) one instance publishes; the rest are summed into one `others` row per transport. */
const GROUPS_MAX = 200

export interface StreamGroup {
  transport: StreamTransport
  key_id: string
  /** null: streams without a `sub`; `others`: past GROUPS_MAX. */
  sub: string | null
  count: number
}

/** What the console's Overview shows as "Open streams". */
export interface OpenStreamsView {
  /** `cluster`: every instance publishing to Redis; `instance`: this one only (no Redis, or Redis unreachable). */
  scope: 'cluster' | 'instance'
  instances: number
  total: number
  by_transport: Record<StreamTransport, number>
  streams: StreamGroup[]
}

const TRANSPORTS: readonly StreamTransport[] = ['bytes', 'sse', 'websocket', 'stt']

/** This instance's open streams as groups, largest first, at most GROUPS_MAX of them. */
function groupsOf(registry: StreamRegistry): StreamGroup[] {
  const groups = new Map<string, StreamGroup>()
  for (const s of registry.openNow()) {
    const id = JSON.stringify([s.transport, s.keyId, s.sub])
    const g = groups.get(id)
    if (g) g.count += 1
    else groups.set(id, { transport: s.transport, key_id: s.keyId, sub: s.sub, count: 1 })
  }
  const sorted = [...groups.values()].sort((a, b) => b.count - a.count)
  return sorted.length <= GROUPS_MAX ? sorted : [...sorted.slice(0, GROUPS_MAX), ...others(sorted.slice(GROUPS_MAX))]
}

function others(rest: StreamGroup[]): StreamGroup[] {
  return TRANSPORTS.map((transport) => ({
    transport,
    key_id: 'others',
    sub: 'others',
    count: rest.filter((g) => g.transport === transport).reduce((n, g) => n + g.count, 0),
  })).filter((g) => g.count > 0)
}

/**
 * Open streams for the console: this instance's from its registry, and with Redis the cluster's,
 * each instance publishing its own every second into one hash (field: the instance) that readers
 * merge, leaving out instances silent for STALE_MS.
 */
export class StreamCounts {
  readonly #instance = randomId('instance', 9)
  #timer: NodeJS.Timeout | undefined

  constructor(
    private readonly registry: StreamRegistry,
    private readonly redis: RedisConnection | undefined,
    private readonly clock: Clock,
  ) {}

  get #hash(): string {
    return this.redis!.key('console', 'open-streams')
  }

  /** Starts publishing (with Redis; without it there is nothing to share). */
  start(): void {
    if (!this.redis) return
    const publish = () => {
      const value = JSON.stringify({ at: this.clock.now(), streams: groupsOf(this.registry) })
      // Best effort: a Redis outage is in its fault log already, and readers fall back to their own counts.
      this.redis!.call((c) => c.hSet(this.#hash, this.#instance, value), 'console_streams').catch(() => undefined)
    }
    publish()
    this.#timer = setInterval(publish, STREAM_COUNTS_PUBLISH_MS)
    this.#timer.unref()
  }

  async read(): Promise<OpenStreamsView> {
    const own = groupsOf(this.registry)
    if (!this.redis) return view('instance', 1, own)
    let published: Record<string, string>
    try {
      published = await this.redis.call((c) => c.hGetAll(this.#hash), 'console_streams')
    } catch {
      return view('instance', 1, own)
    }
    const now = this.clock.now()
    const merged = [...own]
    let instances = 1
    const stale: string[] = []
    for (const [instance, value] of Object.entries(published)) {
      if (instance === this.#instance) continue
      const entry = JSON.parse(value) as { at: number; streams: StreamGroup[] }
      if (now - entry.at > STALE_MS) {
        stale.push(instance)
        continue
      }
      instances += 1
      merged.push(...entry.streams)
    }
    if (stale.length > 0) this.redis.call((c) => c.hDel(this.#hash, stale)).catch(() => undefined)
    return view('cluster', instances, merged)
  }

  async close(): Promise<void> {
    clearInterval(this.#timer)
    if (this.redis?.ready) await this.redis.call((c) => c.hDel(this.#hash, this.#instance)).catch(() => undefined)
  }
}

function view(scope: OpenStreamsView['scope'], instances: number, groups: StreamGroup[]): OpenStreamsView {
  const byTransport = Object.fromEntries(TRANSPORTS.map((t) => [t, 0])) as Record<StreamTransport, number>
  const streams = new Map<string, StreamGroup>()
  for (const g of groups) {
    byTransport[g.transport] += g.count
    const id = JSON.stringify([g.transport, g.key_id, g.sub])
    const seen = streams.get(id)
    if (seen) seen.count += g.count
    else streams.set(id, { ...g })
  }
  const total = TRANSPORTS.reduce((n, t) => n + byTransport[t], 0)
  return {
    scope,
    instances,
    total,
    by_transport: byTransport,
    streams: [...streams.values()].sort((a, b) => b.count - a.count),
  }
}
