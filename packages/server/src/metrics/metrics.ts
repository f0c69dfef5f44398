import type { Registry } from 'prom-client'
import type { ErrorCode } from '@voxgate/protocol'
import type { StreamObserver } from '../streams/registry.ts'

/** What the speech pool reports when scraped. */
export interface SpeechLoad {
  queued: number
  busy: number
  workers: number
}

/**
 * The server's metrics, one set per server instance (several run in one test process). Every label
 * value comes from a closed set: route templates, catalogue error codes, transports, close codes.
 * No label ever carries a token, a key, a `sub` or text. With `--metrics` off every call is a no-op.
 */
export interface Metrics {
  /** The Prometheus registry to expose; undefined when metrics are off. */
  readonly registry: Registry | undefined
  /** Told as each stream opens; undefined when off (the registry then observes nothing). */
  readonly streams: StreamObserver | undefined
  request(method: string, route: string, status: number): void
  tokenMinted(): void
  /** A credential check's outcome: `ok`, or the coded error it failed with. */
  credentialChecked(outcome: 'ok' | ErrorCode): void
  revoked(kind: string): void
  charactersSynthesized(count: number): void
  websocketClosed(endpoint: 'tts' | 'stt', code: number): void
  storeError(operation: string): void
  redisError(): void
  /** Where the speech pool gauges are read from, on each scrape. */
  speechLoad(read: () => SpeechLoad | undefined): void
  /** Gateway mode: where the upstream circuit's state is read from, on each scrape. */
  upstreamCircuit(read: () => Promise<CircuitStateName>): void
  /** Gateway mode: a request served by the offline engines instead of the upstream, by why. */
  fallback(reason: string): void
  /** A TTS cache lookup: `hit` or `miss`. */
  ttsCache(outcome: 'hit' | 'miss'): void
}

/** The upstream circuit's states (gateway/circuit-breaker.ts), each a series of `voxgate_upstream_circuit_state`. */
export type CircuitStateName = 'closed' | 'open' | 'half_open'
export const CIRCUIT_STATES: readonly CircuitStateName[] = ['closed', 'open', 'half_open']

const noop = (): void => undefined

/** Metrics off: nothing is counted, nothing is allocated per event. */
export const NO_METRICS: Metrics = {
  registry: undefined,
  streams: undefined,
  request: noop,
  tokenMinted: noop,
  credentialChecked: noop,
  revoked: noop,
  charactersSynthesized: noop,
  websocketClosed: noop,
  storeError: noop,
  redisError: noop,
  speechLoad: noop,
  upstreamCircuit: noop,
  fallback: noop,
  ttsCache: noop,
}

/** Counts the errors the Redis clients report (connection losses, failed commands' sockets). */
export function observeRedis(
  redis: { client: NodeJS.EventEmitter; subscriber: NodeJS.EventEmitter } | undefined,
  metrics: Metrics,
): void {
  if (!redis || !metrics.registry) return
  for (const c of [redis.client, redis.subscriber]) c.on('error', () => metrics.redisError())
}
