import { createClient } from 'redis'
import { VoxgateError } from '@voxgate/protocol'
import type { FaultLog } from '../fault-log.ts'

/** How long one Redis call may take before the request that needs it is answered 503. */
export const REDIS_CALL_TIMEOUT_MS = 1500
/** Longest wait between reconnection attempts; Redis back is Redis used again within this. */
const RECONNECT_MAX_MS = 1000

export type RedisClient = ReturnType<typeof createClient>

/**
 * The Redis connection of one instance: commands on one client, pub/sub on a second (a subscribed
 * connection can do nothing else). Commands fail fast while disconnected (no offline queue) and are
 * bounded by `call`'s timeout, so a Redis that is down or hung costs a request at most 1.5 s, and the
 * clients reconnect by themselves.
 */
export class RedisConnection {
  readonly client: RedisClient
  readonly subscriber: RedisClient
  readonly prefix: string

  private constructor(
    url: string,
    prefix: string,
    /** Where this connection's failures are logged, once per fault and period (never a line per request). */
    readonly faults: FaultLog,
  ) {
    const options = {
      url,
      disableOfflineQueue: true,
      socket: {
        connectTimeout: REDIS_CALL_TIMEOUT_MS,
        reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, RECONNECT_MAX_MS),
      },
    }
    this.client = createClient(options)
    this.subscriber = createClient(options)
    this.prefix = prefix
    // Without listeners a connection error would be an uncaught exception; the URL (which may hold
    // a password) is never logged, only the error's code.
    for (const c of [this.client, this.subscriber])
      c.on('error', (err: Error & { code?: string }) => this.faults.failed('connection', codeOf(err)))
    this.client.on('ready', () => this.faults.recovered())
  }

  /**
   * Connects both clients; a Redis down at start is not fatal (it is retried in the background).
   * The wait is bounded: node-redis's `connect()` settles only once connected, which with Redis down
   * would be never, and the start would hang.
   */
  static async connect(url: string, prefix: string, faults: FaultLog): Promise<RedisConnection> {
    const conn = new RedisConnection(url, prefix, faults)
    let timer: NodeJS.Timeout | undefined
    const bound = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, REDIS_CALL_TIMEOUT_MS)
    })
    const connected = Promise.all([conn.client, conn.subscriber].map((c) => c.connect().catch(() => undefined)))
    await Promise.race([connected, bound])
    clearTimeout(timer)
    if (!conn.ready) faults.failed('connect', 'not reachable at start; starting anyway, reconnecting in the background')
    return conn
  }

  get ready(): boolean {
    return this.client.isReady
  }

  /** Runs one Redis call with the timeout; any failure is 503 `limits_unavailable` (and counted as `operation`). */
  async call<T>(fn: (client: RedisClient) => Promise<T>, operation = 'command'): Promise<T> {
    let timer: NodeJS.Timeout | undefined
    try {
      const result = await Promise.race([
        fn(this.client),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('redis call timed out')), REDIS_CALL_TIMEOUT_MS)
        }),
      ])
      this.faults.recovered()
      return result
    } catch (err) {
      this.faults.failed(operation, codeOf(err as Error))
      throw new VoxgateError('limits_unavailable', 'The shared limits service is unavailable; retry shortly.', {
        'retry-after': '2',
      })
    } finally {
      clearTimeout(timer)
    }
  }

  key(...parts: string[]): string {
    return this.prefix + parts.join(':')
  }

  /**
   * A graceful close waits for the commands in flight, but no longer than one call may take: with
   * Redis unreachable they would never be answered, and a shutdown must not hang on them.
   */
  async close(): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    const bound = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, REDIS_CALL_TIMEOUT_MS)
    })
    const closed = Promise.all(
      [this.client, this.subscriber].map((c) => (c.isOpen ? c.close().catch(() => undefined) : undefined)),
    )
    await Promise.race([closed, bound])
    clearTimeout(timer)
    for (const c of [this.client, this.subscriber]) if (c.isOpen) c.destroy()
  }
}

/** A failure as a code, never a message (a message may name the URL and its password). */
function codeOf(err: Error & { code?: string }): string {
  return err.code ?? (err.message === 'redis call timed out' ? 'timeout' : err.name)
}
