import type { KeyPolicy, Scope } from '../keys/scopes.ts'

/**
 * The one storage interface: SQLite (embedded default, sqlite.ts) or PostgreSQL (postgres.ts), both
 * keeping the contract below. Methods are async so a networked store fits without changing callers; the hot
 * path (a token seen before) never reaches the store. Stores are built only by `openStore` (open.ts).
 *
 * The contract every implementation keeps (checked by test/store/contract.ts):
 * - every change to API keys (create, revoke), signing keys (add, retire, prune) or revocations (add,
 *   prune) moves `version()` forward, in the same transaction as the change, so a poller that sees
 *   the same version has nothing to reload;
 * - a call that changes nothing (revoking a revoked key, pruning nothing) leaves the version alone;
 * - usage writes (`touchApiKey`, character reservations and refunds) never move it: they would make
 *   every instance reload every second;
 * - `reserveCharacters` is atomic across every process and instance sharing the store: concurrent
 *   reservations never take a token past its budget, not by one; the same holds for any other usage
 *   counter kept under a jti-like key (a quota's period, `quota:…`) and for `reserveAudio`;
 * - quota changes (put, delete) move the version, so every instance reloads its quotas;
 * - a write that resolved is durable (it survives `kill -9` of the process);
 * - the shared counters (`SharedCounters`) are atomic across every process sharing the store: a slot
 *   is never granted past its limit, a rate window never counts past its limit; they never move the
 *   version either.
 */
export interface ApiKeyRecord {
  id: string
  name: string
  /** What the key may do (keys/scopes.ts); keys from before scopes existed read as `["admin"]`. */
  scopes: Scope[]
  /** Bounds on what it mints; null: none. */
  policy: KeyPolicy | null
  /** When the key stops working (401 `api_key_expired`); null: never. */
  expiresAt: number | null
  /** sha256 of the whole key, hex. The key itself is never stored. */
  hash: string
  /** The first characters of the key, for people to recognise it in a list. */
  prefix: string
  createdAt: number
  lastUsedAt: number | null
  revokedAt: number | null
}

/** What `PATCH /api-keys/:id` may change; absent fields stay. */
export interface ApiKeyChange {
  name?: string | undefined
  scopes?: Scope[] | undefined
  expiresAt?: number | null | undefined
}

export type KeyChangeResult = 'changed' | 'not_found' | 'last_admin_key'

/** A key as created: everything but what using and revoking it later sets. */
export type NewApiKeyRecord = Omit<ApiKeyRecord, 'lastUsedAt' | 'revokedAt'>

export interface SigningKeyRecord {
  kid: string
  /** PKCS#8 PEM of the Ed25519 private key. */
  privatePem: string
  createdAt: number
  /** When it stopped signing (a newer key took over); null for the current key. */
  retiredAt: number | null
}

/** A revocation rule. Tokens it matches stop working at once, streams included. */
export type Revocation =
  | { kind: 'jti'; jti: string; expiresAt: number }
  | { kind: 'sub'; sub: string; issuedBefore: number; expiresAt: number }

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

export type QuotaPeriod = 'day' | 'month'

/**
 * A cap on what one end-user (`sub`), one API key, or both, may use per UTC day or month, across all
 * their tokens. A null `sub` / `keyId` matches any. Its usage in each period is a counter kept with
 * the tokens' (see `quotaCounter`), reserved through the same path.
 */
export interface QuotaRecord {
  id: string
  sub: string | null
  keyId: string | null
  period: QuotaPeriod
  /** Characters synthesized per period; null: not capped. */
  characters: number | null
  /** Seconds of audio transcribed per period; null: not capped. */
  audioSeconds: number | null
  createdAt: number
}

/** The answer to a reservation: whether it was granted, and the token's usage after the call. */
export interface Reservation {
  granted: boolean
  used: number
}

export interface StoreSnapshot {
  /** Monotonic change counter; a poller reloads only when it moved. */
  version: number
  revokedKeyIds: string[]
  signingKeys: SigningKeyRecord[]
  revocations: Revocation[]
}

/**
 * Short-lived counters several processes must share when there is no Redis: concurrent-stream slots
 * as leases that expire unless renewed, and fixed rate windows. (With `--redis`, Redis holds them.)
 */
export interface SharedCounters {
  /** Takes one of `limit` slots of token `jti` as lease `leaseId`, expiring at `nowMs + ttlMs`; false when all are held. */
  acquireSlot(jti: string, leaseId: string, limit: number, nowMs: number, ttlMs: number): Promise<boolean>
  /** Extends the leases this process holds (re-adding any that were lost). */
  renewSlots(leases: readonly { jti: string; leaseId: string }[], nowMs: number, ttlMs: number): Promise<void>
  releaseSlot(jti: string, leaseId: string): Promise<void>
  /** Leases of token `jti` not expired at `nowMs`. */
  countSlots(jti: string, nowMs: number): Promise<number>
  /** Counts one hit in `key`'s fixed window; 0 when within `limit`, else the ms until the window ends (not counted). */
  takeRate(key: string, limit: number, windowMs: number, nowMs: number): Promise<number>
}

export interface Store extends SharedCounters {
  createApiKey(record: NewApiKeyRecord): Promise<void>
  findApiKeyByHash(hash: string): Promise<ApiKeyRecord | undefined>
  listApiKeys(): Promise<ApiKeyRecord[]>
  /** False when no such key or already revoked. */
  revokeApiKey(id: string, atMs: number): Promise<boolean>
  touchApiKey(id: string, atMs: number): Promise<void>
  /** One key by id (revoked or not). */
  getApiKey(id: string): Promise<ApiKeyRecord | undefined>
  /**
   * Changes a live key, unless that would leave no live `admin` key (checked in the same write).
   * Moves the version when it changed one.
   */
  updateApiKey(id: string, change: ApiKeyChange): Promise<KeyChangeResult>
  /** As `revokeApiKey`, refusing to revoke the last live `admin` key (the HTTP API's DELETE). */
  removeApiKey(id: string, atMs: number): Promise<KeyChangeResult>
  addSigningKey(record: SigningKeyRecord): Promise<void>
  retireSigningKey(kid: string, atMs: number): Promise<void>
  /**
   * Adds `characters` to token `jti`'s usage when the total stays within `budget` (no budget: always),
   * atomically and durably. `expiresAt` (ms) lets housekeeping drop the row once the token is dead.
   */
  reserveCharacters(
    jti: string,
    characters: number,
    budget: number | undefined,
    expiresAt: number,
  ): Promise<Reservation>
  /** Gives back characters reserved and never spoken (never below zero). */
  refundCharacters(jti: string, characters: number): Promise<void>
  /** Characters token `jti` has used (reserved and not refunded); 0 for a token never seen. */
  usedCharacters(jti: string): Promise<number>
  /** As `reserveCharacters`, for milliseconds of audio transcribed (`limits.audio_seconds` × 1000). */
  reserveAudio(jti: string, ms: number, budgetMs: number | undefined, expiresAt: number): Promise<Reservation>
  refundAudio(jti: string, ms: number): Promise<void>
  /** Milliseconds of audio token `jti` has used; 0 for a token never seen. */
  usedAudio(jti: string): Promise<number>
  /**
   * Settles a finished stream: adds its figures to the usage ledger and gives back what it reserved
   * and never used, in one write, so the ledger and the budgets never disagree. Never moves the version.
   */
  settleUsage(delta: UsageDelta, refund?: UsageRefund): Promise<void>
  /** Counts one refused stream in the ledger (never moves the version). */
  recordRefusal(refusal: UsageRefusal): Promise<void>
  /** Ledger rows (per key, `sub`, day) within the filter, ordered by day, key, sub. */
  queryUsage(filter: UsageFilter): Promise<UsageRow[]>
  /**
   * Drops signing keys retired before `beforeMs`, revocations that expired before it, and the usage
   * of tokens that expired before it (housekeeping).
   */
  prune(beforeMs: number): Promise<void>
  /**
   * Sets the quota for its (`sub`, `keyId`, `period`): a new one gets `record.id` and `createdAt`, an
   * existing one keeps its id (and its period's usage) and takes the new caps. Moves the version.
   */
  putQuota(record: QuotaRecord): Promise<{ quota: QuotaRecord; created: boolean }>
  /** Every quota, oldest first. */
  listQuotas(): Promise<QuotaRecord[]>
  /** False when no such quota. Moves the version when it removed one. */
  deleteQuota(id: string): Promise<boolean>
  addRevocation(revocation: Revocation): Promise<void>
  version(): Promise<number>
  snapshot(): Promise<StoreSnapshot>
  close(): Promise<void>
}
