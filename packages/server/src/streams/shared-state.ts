import type { Logger } from 'pino'
import { RevocationBus } from '../auth/revocation-bus.ts'
import type { Clock } from '../clock.ts'
import type { ServerConfig } from '../config.ts'
import { FaultLog } from '../fault-log.ts'
import { MemoryRateLimiter, type RateLimiter } from './rate-limiter.ts'
import { RedisRateLimiter } from './redis-rate-limiter.ts'
import { RedisSlots, type SlotStore } from './slots.ts'
import { StoreRateLimiter } from './store-rate-limiter.ts'
import { StoreSlots } from './store-slots.ts'
import type { SharedCounters } from '../store/types.ts'
import type { RedisConnection } from '../shared/redis.ts'
import { CONSOLE_SIGN_IN_PER_MINUTE } from '../auth/console-sessions.ts'

/**
 * The short-lived state several instances must share: concurrent-stream slots, per-key rate limits
 * and revocation fan-out. In Redis when `--redis` is given; otherwise slots and rate limits are
 * counted in the store (so processes sharing a SQLite folder, or instances sharing PostgreSQL, still
 * agree) and revocations travel by the store poll.
 */
export interface SharedState {
  slots: SlotStore
  rateLimiter: RateLimiter
  revocationBus: RevocationBus | undefined
  redis: RedisConnection | undefined
  close(): Promise<void>
}

export async function openSharedState(
  config: ServerConfig,
  store: SharedCounters,
  clock: Clock,
  logger: Logger,
): Promise<SharedState> {
  const limits = {
    mint: { limit: config.mintPerMinute, windowMs: 60_000 },
    tts: { limit: config.ttsStreamsPerMinute, windowMs: 60_000 },
    // Per client address (console/routes.ts); the console's own limit, not an option.
    console_sign_in: { limit: CONSOLE_SIGN_IN_PER_MINUTE, windowMs: 60_000 },
  }
  const local = new MemoryRateLimiter(limits, clock)
  if (!config.redisUrl) {
    const slots = new StoreSlots(store, logger)
    return {
      slots,
      rateLimiter: new StoreRateLimiter(store, limits, local),
      revocationBus: undefined,
      redis: undefined,
      close: async () => slots.close(),
    }
  }
  const faults = new FaultLog({ logger, dependency: 'redis', clock })
  // Loaded only when asked for: node-redis is some 580 modules, most of a start's module loading.
  const { RedisConnection } = await import('../shared/redis.ts')
  const redis = await RedisConnection.connect(config.redisUrl, config.redisPrefix, faults)
  const slots = new RedisSlots(redis, logger)
  return {
    slots,
    rateLimiter: new RedisRateLimiter(redis, limits, local),
    revocationBus: new RevocationBus(redis, logger),
    redis,
    async close() {
      slots.close()
      await redis.close()
    },
  }
}
