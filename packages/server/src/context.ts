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
import type { TtsCache } from './tts/cache.ts'
import type { QuotaSync } from './quotas/sync.ts'
import type { Outbox } from './webhooks/outbox.ts'
import type { WebhookAdmin } from './webhooks/admin.ts'
import type { ConsoleSessions } from './auth/console-sessions.ts'
import type { StreamCounts } from './streams/stream-counts.ts'

/**
 * What every part of the server reads: its configuration, clock, logs, metrics and store. Each group
 * below extends it, so a module that takes one group still has these.
 */
export interface CoreParts {
  config: ServerConfig
  clock: Clock
  logger: Logger
  /** Prometheus metrics of this server (no-ops unless `--metrics`). */
  metrics: Metrics
  store: Store
}

/** Who is calling: keys, access tokens, the signing keys and revocations they are checked against. */
export interface AuthParts extends CoreParts {
  keyRing: KeyRing
  revocations: RevocationList
  tokens: TokenService
  authenticator: Authenticator
  /** Signing keys, revocations and quotas re-read from the store, as other instances change them. */
  sync: StateSync
  /** With `--console`: its sessions (the cookie is accepted on the console's routes only). */
  console?: ConsoleSessions
}

/** What a call may take and what it took: streams and their slots, budgets, quotas, rate limits, refusals. */
export interface AccountingParts extends CoreParts {
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
  /** With `--console`: open streams by transport, this instance's or the cluster's (Redis). */
  streamCounts?: StreamCounts
}

/** What speaks: the synthesis engines, the rendered-answer cache, the encoder for OpenAI's `aac`. */
export interface SpeechParts extends CoreParts {
  speech: SpeechService
  /** `--tts-cache-mb`: rendered `/tts/bytes` and `/v1/audio/speech` answers, local or relayed. */
  ttsCache?: TtsCache
  /** The ffmpeg found at start, which encodes OpenAI's `aac`, and each encode's bounds; absent, `aac` is refused. */
  ffmpeg?: FfmpegAac
}

/** How OpenAI's `aac` is made: ffmpeg, and the bounds each of its encodes runs within. */
export interface FfmpegAac {
  /** The ffmpeg executable found at start. */
  path: string
  /** `--aac-max-seconds`: one encode may run this long, first input byte to last output byte. */
  maxRunMs: number
  /** `--aac-max-output-bytes`: one encode may write at most this many bytes. */
  maxOutputBytes: number
}

/** What operators are told: webhook events and the webhooks that receive them. */
export interface OperationsParts extends CoreParts {
  /** The webhook outbox: `enqueue` an event (api_key.rotated, …); this instance sends it at once. */
  outbox: Outbox
  /** Webhooks as `/webhooks` manages them. */
  webhooks: WebhookAdmin
}

/**
 * What the routes and transports are handed: every group, built once in server.ts by its own factory
 * (assembly/). A module that uses one group takes that group's type, not this.
 */
export interface ServerContext extends AuthParts, AccountingParts, SpeechParts, OperationsParts {}
