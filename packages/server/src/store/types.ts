import type { KeyPolicy, Scope } from '../auth/scopes.ts'
import type { AuditDraft, AuditFilter, AuditOnce, AuditPage } from './audit-types.ts'

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
 *   version either;
 * - a change given an `audit` draft appends its audit row in the same transaction as the change: both
 *   land or neither does, and a call that changes nothing appends nothing (audit-types.ts).
 */
export interface ApiKeyRecord {
  id: string
  name: string
  /** What the key may do (auth/scopes.ts); keys from before scopes existed read as `["admin"]`. */
  scopes: Scope[]
  /** Bounds on what it mints; null: none. */
  policy: KeyPolicy | null
  /** When the key stops working (401 `api_key_expired`); null: never. */
  expiresAt: number | null
  /** sha256 of the whole key, hex. The key itself is never stored. */
  hash: string
  /** After a rotation: the digest of the secret it replaced, which works until `rotatingUntil`. */
  previousHash: string | null
  /** When the replaced secret stops working (401 `api_key_expired`); null: no rotation yet. */
  rotatingUntil: number | null
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
export type NewApiKeyRecord = Omit<ApiKeyRecord, 'lastUsedAt' | 'revokedAt' | 'previousHash' | 'rotatingUntil'>

/**
 * A new secret for a live key: the current one becomes the previous one (working until
 * `previousUntil`), and a previous one from an earlier rotation stops at once.
 */
export interface ApiKeyRotation {
  id: string
  hash: string
  prefix: string
  previousUntil: number
}

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
  /** Fractions of a cap whose crossing fires a `quota.threshold` webhook event; null: the default (0.8, 1). */
  alertAt?: number[] | null | undefined
  createdAt: number
}

/** The answer to a reservation: whether it was granted, and the token's usage after the call. */
export interface Reservation {
  granted: boolean
  used: number
}

/** A webhook endpoint (issue 22 item 4): where events go, which ones, and the secret that signs them. */
export interface WebhookRecord {
  id: string
  url: string
  /** Event types it receives (`quota.threshold`, `api_key.created`, …). */
  events: string[]
  /** `whsec_<base64>`; sealed with the KEK in PostgreSQL. */
  secret: string
  createdAt: number
}

/** One event in the outbox: its body is fixed when it is enqueued, so every attempt signs the same bytes. */
export interface OutboxEvent {
  /** `msg_…`: the `webhook-id` of every delivery of it. */
  id: string
  type: string
  /** `{"type","timestamp","data"}` as sent. */
  body: string
  createdAt: number
  /** At most one event ever holds a given key (a quota's threshold in one period, …); null: none. */
  dedupeKey: string | null
}

/** One event's delivery to one webhook: its latest attempt. */
export interface WebhookDelivery {
  webhookId: string
  eventId: string
  type: string
  /** Attempts made so far (0: none yet). */
  attempt: number
  statusCode: number | null
  error: string | null
  /** When the next attempt is due; null once delivered or given up. */
  nextAttemptAt: number | null
  deliveredAt: number | null
  createdAt: number
}

/** A delivery claimed for one attempt, with what sending it needs. */
export interface ClaimedDelivery {
  webhookId: string
  eventId: string
  type: string
  body: string
  url: string
  secret: string
  /** Attempts made before this one. */
  attempt: number
  eventCreatedAt: number
}

/** The outcome of one attempt; `nextAttemptAt` null ends the delivery (delivered, or given up). */
export interface WebhookAttempt {
  webhookId: string
  eventId: string
  attempt: number
  statusCode: number | null
  error: string | null
  nextAttemptAt: number | null
  deliveredAt: number | null
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

/**
 * A signed-in operator console (docs/console.md). Found by the digest of its cookie's opaque id (the
 * id itself is never stored); ends at `expiresAt` (absolute) or once idle past the caller's limit.
 */
export interface ConsoleSessionRecord {
  /** sha256 of the session id, hex. */
  idHash: string
  /** The API key that signed in; null for a one-time link (`voxgate console-link`). */
  keyId: string | null
  /** What a link session may do; a key's session follows its key's scopes at each request. */
  scope: 'admin' | 'read'
  createdAt: number
  lastSeenAt: number
  expiresAt: number
}

export interface Store extends SharedCounters {
  createApiKey(record: NewApiKeyRecord, audit?: AuditDraft): Promise<void>
  /** The key whose current or previous (rotated) secret has this digest. */
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
  updateApiKey(id: string, change: ApiKeyChange, audit?: AuditDraft): Promise<KeyChangeResult>
  /** As `revokeApiKey`, refusing to revoke the last live `admin` key (the HTTP API's DELETE, `keys revoke`). */
  removeApiKey(id: string, atMs: number, audit?: AuditDraft): Promise<KeyChangeResult>
  /** Gives a live key a new secret (ApiKeyRotation). Moves the version. */
  rotateApiKey(rotation: ApiKeyRotation, audit?: AuditDraft): Promise<'changed' | 'not_found'>
  addSigningKey(record: SigningKeyRecord): Promise<void>
  retireSigningKey(kid: string, atMs: number): Promise<void>
  /**
   * Adds `record` and retires every other active signing key at its `createdAt`, in one transaction;
   * returns the kids retired (also added to the audit row's details as `retired`). Moves the version.
   */
  replaceSigningKey(record: SigningKeyRecord, audit?: AuditDraft): Promise<string[]>
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
   * The audit row's target id becomes the id the quota keeps, and its details get `created`.
   */
  putQuota(record: QuotaRecord, audit?: AuditDraft): Promise<{ quota: QuotaRecord; created: boolean }>
  /** Every quota, oldest first. */
  listQuotas(): Promise<QuotaRecord[]>
  /** False when no such quota. Moves the version when it removed one. */
  deleteQuota(id: string, audit?: AuditDraft): Promise<boolean>
  addRevocation(revocation: Revocation, audit?: AuditDraft): Promise<void>
  createWebhook(record: WebhookRecord, audit?: AuditDraft): Promise<void>
  /** Every webhook, oldest first. */
  listWebhooks(): Promise<WebhookRecord[]>
  getWebhook(id: string): Promise<WebhookRecord | undefined>
  /** Removes a webhook and its deliveries (pending ones included); false when no such webhook. */
  removeWebhook(id: string, audit?: AuditDraft): Promise<boolean>
  /** Replaces a webhook's secret (later attempts, pending retries included, sign with it); false when no such webhook. */
  setWebhookSecret(id: string, secret: string): Promise<boolean>
  /**
   * The outbox: stores the event and one delivery, due at once, per webhook subscribed to its type
   * (with `onlyWebhookId`: to that webhook alone, whatever it subscribed to), in one write. False,
   * and nothing stored, when an event with the same `dedupeKey` exists: across every process sharing
   * the store, at most one event ever holds a key.
   */
  enqueueWebhookEvent(event: OutboxEvent, onlyWebhookId?: string): Promise<boolean>
  /**
   * Takes up to `limit` deliveries due at `nowMs` and leases them until `nowMs + leaseMs`: no other
   * process claims them meanwhile (one that crashed mid-attempt leaves them to be claimed again).
   */
  claimWebhookDeliveries(nowMs: number, leaseMs: number, limit: number): Promise<ClaimedDelivery[]>
  /** Records an attempt's outcome and ends the lease. */
  recordWebhookAttempt(attempt: WebhookAttempt): Promise<void>
  /** A webhook's latest `limit` deliveries, newest first. */
  listWebhookDeliveries(webhookId: string, limit: number): Promise<WebhookDelivery[]>
  /** Drops events (and their deliveries) created before `beforeMs` (housekeeping). */
  pruneWebhookEvents(beforeMs: number): Promise<void>
  /**
   * Appends a row that records no change of its own (an expired key tried); with `once`, only when no
   * row under `once.key` was appended within `once.withinMs`, across every instance. True when appended.
   */
  appendAudit(draft: AuditDraft, once?: AuditOnce): Promise<boolean>
  /** A page of the audit log, newest first (AuditPage). */
  queryAudit(filter: AuditFilter): Promise<AuditPage>
  /** Drops audit rows written before `beforeMs` (housekeeping); returns how many. Never moves the version. */
  pruneAudit(beforeMs: number): Promise<number>
  /** Stores a one-time console sign-in code (by digest) valid until `expiresAt`. */
  addConsoleLoginCode(codeHash: string, expiresAt: number): Promise<void>
  /**
   * Uses a console sign-in code: true once, for a code stored and not expired at `nowMs`; it is gone
   * afterwards (atomic across every instance: two instances racing with one code, one wins).
   */
  takeConsoleLoginCode(codeHash: string, nowMs: number): Promise<boolean>
  createConsoleSession(record: ConsoleSessionRecord): Promise<void>
  getConsoleSession(idHash: string): Promise<ConsoleSessionRecord | undefined>
  /** Moves a session's last-seen time forward (its idle clock). */
  touchConsoleSession(idHash: string, atMs: number): Promise<void>
  /** Ends a session on every instance; false when there was none. */
  endConsoleSession(idHash: string): Promise<boolean>
  /** Drops sessions past `expiresAt` or not seen since `idleBeforeMs`, and expired codes (housekeeping). */
  pruneConsoleSessions(nowMs: number, idleBeforeMs: number): Promise<void>
  version(): Promise<number>
  /**
   * `version()` answered synchronously, where reading it costs no round trip (SQLite: one indexed
   * read in this process). The authenticator reads a known API key's row again only when it moved; a
   * store without it has the row read on every key use.
   */
  versionNow?(): number
  snapshot(): Promise<StoreSnapshot>
  close(): Promise<void>
}
