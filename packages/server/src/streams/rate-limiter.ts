import { VoxgateError } from '@voxgate/protocol'
import type { Clock } from '../clock.ts'

/**
 * Per-key rate limits (minting, TTS streams). The interface is async so a shared implementation
 * (Redis, for several instances) fits behind it; the in-memory one is exact for a single process.
 */
export interface RateLimiter {
  /** Takes one unit for `key` or throws 429 `rate_limited` with Retry-After. */
  take(bucket: string, key: string): Promise<void>
}

export interface RateLimit {
  /** Units per window; 0 disables the limit. */
  limit: number
  windowMs: number
}

/** The answer past a rate limit, wherever the window is counted; `waitMs` until the window ends. */
export function rateLimited(rule: RateLimit, bucket: string, waitMs: number): VoxgateError {
  return new VoxgateError(
    'rate_limited',
    `This API key may make ${rule.limit} ${bucket} requests per ${rule.windowMs / 1000} s.`,
    { 'retry-after': String(Math.max(1, Math.ceil(waitMs / 1000))) },
  )
}

/** A sliding-log-free fixed window: cheap, and the Retry-After it gives is exact. */
export class MemoryRateLimiter implements RateLimiter {
  readonly #windows = new Map<string, { start: number; count: number }>()

  constructor(
    private readonly limits: Readonly<Record<string, RateLimit>>,
    private readonly clock: Clock,
  ) {}

  async take(bucket: string, key: string): Promise<void> {
    const rule = this.limits[bucket]
    if (!rule || rule.limit === 0) return
    const now = this.clock.now()
    const id = `${bucket}:${key}`
    let w = this.#windows.get(id)
    if (!w || now - w.start >= rule.windowMs) {
      w = { start: now, count: 0 }
      this.#windows.set(id, w)
      if (this.#windows.size > 100_000) this.#evict(now)
    }
    if (w.count >= rule.limit) {
      throw rateLimited(rule, bucket, w.start + rule.windowMs - now)
    }
    w.count += 1
  }

  #evict(now: number): void {
    for (const [id, w] of this.#windows) if (now - w.start > 3_600_000) this.#windows.delete(id)
  }
}
