import type { Clock } from '../clock.ts'
import type { ServerConfig } from '../config.ts'
import type { RedisConnection } from '../shared/redis.ts'
import { CircuitBreaker } from './circuit-breaker.ts'
import { MemoryCircuitStore, RedisCircuitStore } from './circuit-store.ts'
import type { Upstream } from './upstream.ts'

export interface CircuitInput {
  config: ServerConfig
  clock: Clock
  upstream: Upstream
  /** With `--redis` the circuit is one for the whole deployment; without, each instance has its own. */
  redis: RedisConnection | undefined
}

/** The upstream's circuit breaker as the server's options configure it. */
export function openCircuitBreaker({ config, clock, upstream, redis }: CircuitInput): CircuitBreaker {
  return new CircuitBreaker({
    store: redis ? new RedisCircuitStore(redis, upstream.base.origin) : new MemoryCircuitStore(),
    clock,
    failureThreshold: config.upstreamFailureThreshold,
    cooldownMs: config.upstreamCooldownMs,
    probeMs: config.upstreamTimeoutMs,
  })
}
