import type { RedisConnection } from '../shared/redis.ts'
import { type MemoryRateLimiter, rateLimited, type RateLimit, type RateLimiter } from './rate-limiter.ts'

/** A fixed window per key: the first hit starts it (PEXPIRE), each hit counts; over the limit, the wait. */
const TAKE = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
if n > tonumber(ARGV[2]) then return -redis.call('PTTL', KEYS[1]) end
return n`

/**
 * Per-key rate limits counted once for the whole deployment, in Redis. When Redis is unreachable the
 * limits fall back to counting in this instance (so a deployment of N instances allows up to N times
 * the rate until Redis returns), rather than refusing minting and speech outright.
 */
export class RedisRateLimiter implements RateLimiter {
  readonly #fallback: MemoryRateLimiter

  constructor(
    private readonly redis: RedisConnection,
    private readonly limits: Readonly<Record<string, RateLimit>>,
    fallback: MemoryRateLimiter,
  ) {
    this.#fallback = fallback
  }

  async take(bucket: string, key: string): Promise<void> {
    const rule = this.limits[bucket]
    if (!rule || rule.limit === 0) return
    let result: number
    try {
      result = Number(
        await this.redis.call(
          (c) =>
            c.eval(TAKE, {
              keys: [this.redis.key('rate', bucket, key)],
              arguments: [String(rule.windowMs), String(rule.limit)],
            }),
          'rate limit (counted in this instance meanwhile)',
        ),
      )
    } catch {
      // The connection's fault log has it: a line per outage and period, not one per request.
      return this.#fallback.take(bucket, key)
    }
    if (result < 0) {
      throw rateLimited(rule, bucket, -result)
    }
  }
}
