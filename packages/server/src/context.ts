import type { Logger } from 'pino'
import type { Authenticator } from './auth/authenticator.ts'
import type { KeyRing } from './auth/key-ring.ts'
import type { Metrics } from './metrics/metrics.ts'
import type { RevocationList } from './auth/revocations.ts'
import type { TokenService } from './auth/tokens.ts'
import type { Clock } from './clock.ts'
import type { ServerConfig } from './config.ts'
import type { StateSync } from './state-sync.ts'
import type { Store } from './store/types.ts'
import type { RateLimiter } from './streams/rate-limiter.ts'
import type { CharacterBudgets } from './streams/budgets.ts'
import type { StreamRefusals } from './streams/refusals.ts'
import type { SharedState } from './streams/shared-state.ts'
import type { StreamRegistry } from './streams/registry.ts'
import type { SpeechService } from './tts/types.ts'
import type { QuotaSync } from './quotas/sync.ts'

/** What every route and transport is handed: the server's parts, built once in server.ts. */
export interface ServerContext {
  config: ServerConfig
  clock: Clock
  store: Store
  keyRing: KeyRing
  revocations: RevocationList
  tokens: TokenService
  authenticator: Authenticator
  sync: StateSync
  speech: SpeechService
  streams: StreamRegistry
  /** The quotas per end-user and API key: this process's copy, and how a change made here reaches every instance. */
  quotas: QuotaSync
  /** Tokens' characters budgets, quotas and usage, durable in the store. */
  budgets: CharacterBudgets
  /** Refused streams, counted in the usage ledger by reason. */
  refusals: StreamRefusals
  rateLimiter: RateLimiter
  /** Slots, rate limits and revocation fan-out shared between instances (Redis), or this process's. */
  shared: SharedState
  logger: Logger
  /** Prometheus metrics of this server (no-ops unless `--metrics`). */
  metrics: Metrics
}
