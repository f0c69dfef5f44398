/** What one finished stream adds to the usage ledger (one row per API key, `sub` and UTC day). */
export interface UsageDelta {
  /** UTC date, `YYYY-MM-DD`. */
  day: string
  keyId: string
  sub: string | null
  characters: number
  /** Milliseconds of audio synthesized. */
  audioMsProduced: number
  /** Milliseconds of audio transcribed. */
  audioMsTranscribed: number
  /** Milliseconds of audio relayed to the voice changer (gateway mode); absent: none. */
  audioMsVoiceChanged?: number
  /** Of `characters`: spoken by the offline engines because the upstream failed (gateway `--fallback`); absent: none. */
  charactersFallback?: number
  /** Of `characters`: answered from the TTS cache; absent: none. */
  charactersCached?: number
  streams: number
}

/** A ledger row as read: the figures, and streams refused there by reason (`quota_exceeded`, …). */
export type UsageRow = UsageDelta & { refused: Record<string, number> }

/** One stream refused for a known credential, counted in the ledger by reason. */
export interface UsageRefusal {
  day: string
  keyId: string
  sub: string | null
  reason: string
}

export interface UsageFilter {
  /** Inclusive UTC dates, `YYYY-MM-DD`. */
  from: string
  to: string
  keyId?: string | undefined
  sub?: string | null | undefined
}

/**
 * Reserved amounts a finished stream gives back, in the same write as its ledger row, to each of the
 * usage counters it charged: its token's (the jti) and its quotas' (`quotaCounter`).
 */
export interface UsageRefund {
  keys: readonly string[]
  characters: number
  audioMs: number
}

/** The answer to a reservation: whether it was granted, and the counter's usage after the call. */
export interface Reservation {
  granted: boolean
  used: number
}

/**
 * Usage: the counters budgets are charged to (a token's jti, a quota's period `quota:…`), and the
 * ledger of finished streams. They are one concern because a settlement writes both at once.
 *
 * - A reservation is atomic across every process and instance sharing the store: concurrent
 *   reservations never take a counter past its budget, not by one (read, check and add are one
 *   serialized step), and a refused one leaves nothing behind.
 * - A write that resolved is durable (it survives `kill -9` of the process).
 * - Refunds never take a counter below zero; a counter never seen reads 0.
 * - Nothing here moves the version: usage would make every instance reload every second.
 * - `prune` (state.ts) drops the counters of tokens expired before its cutoff.
 */
export interface UsageStore {
  /**
   * Adds `characters` to counter `jti` when the total stays within `budget` (no budget: always).
   * `expiresAt` (ms) lets housekeeping drop the row once the token is dead.
   */
  reserveCharacters(
    jti: string,
    characters: number,
    budget: number | undefined,
    expiresAt: number,
  ): Promise<Reservation>
  /** Gives back characters reserved and never spoken (never below zero). */
  refundCharacters(jti: string, characters: number): Promise<void>
  /** Characters counter `jti` holds (reserved and not refunded); 0 for one never seen. */
  usedCharacters(jti: string): Promise<number>
  /** As `reserveCharacters`, for milliseconds of audio transcribed (`limits.audio_seconds` × 1000). */
  reserveAudio(jti: string, ms: number, budgetMs: number | undefined, expiresAt: number): Promise<Reservation>
  refundAudio(jti: string, ms: number): Promise<void>
  /** Milliseconds of audio counter `jti` holds; 0 for one never seen. */
  usedAudio(jti: string): Promise<number>
  /**
   * Settles a finished stream: adds its figures to the ledger and gives back what it reserved and
   * never used, in one write, so the ledger and the budgets never disagree. Settlements made together
   * may share one write (SQLite batches one event-loop turn); each resolves once its write is durable.
   */
  settleUsage(delta: UsageDelta, refund?: UsageRefund): Promise<void>
  /** Counts one refused stream in the ledger. */
  recordRefusal(refusal: UsageRefusal): Promise<void>
  /** Ledger rows (per key, `sub`, day) within the filter, refusals merged in, ordered by day, key, sub. */
  queryUsage(filter: UsageFilter): Promise<UsageRow[]>
}
