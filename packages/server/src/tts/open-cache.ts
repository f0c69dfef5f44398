import type { Clock } from '../clock.ts'
import type { ServerConfig } from '../config.ts'
import type { RedisConnection } from '../shared/redis.ts'
import { RedisTtsCache, TtsCache } from './cache.ts'
import { MemoryTtsCache } from './cache-memory.ts'

/** The TTS cache as configured: in this process, or in Redis with `--tts-cache-redis` (config.ts checks `--redis` is given). */
export function openTtsCache(config: ServerConfig, clock: Clock, redis: RedisConnection | undefined): TtsCache {
  const maxBytes = config.ttsCacheMb * 1024 * 1024
  const store =
    config.ttsCacheRedis && redis
      ? new RedisTtsCache(redis, maxBytes, () => clock.now())
      : new MemoryTtsCache({ maxBytes })
  return new TtsCache({ store, scope: config.ttsCacheScope, free: config.ttsCacheFree })
}
