import type { SharedCounters } from '../store/types.ts'
import { rateLimited, type RateLimit, type RateLimiter } from './rate-limiter.ts'

/**
 * Per-key rate limits counted in the store, for deployments without Redis: every process on one
 * SQLite data folder (or every instance on one PostgreSQL) counts against the same window. While the
 * store does not answer, limits are counted in this process instead (as while Redis is away).
 */
export class StoreRateLimiter implements RateLimiter {
  constructor(
    private readonly counters: SharedCounters,
    private readonly limits: Readonly<Record<string, RateLimit>>,
    private readonly fallback: RateLimiter,
  ) {}

  async take(bucket: string, key: string): Promise<void> {
    const rule = this.limits[bucket]
    if (!rule || rule.limit === 0) return
    let waitMs: number
    try {
      waitMs = await this.counters.takeRate(`${bucket}:${key}`, rule.limit, rule.windowMs, Date.now())
    } catch {
      return this.fallback.take(bucket, key)
    }
    if (waitMs > 0) throw rateLimited(rule, bucket, waitMs)
  }
}
