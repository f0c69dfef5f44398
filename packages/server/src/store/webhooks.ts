import type { AuditDraft } from './audit-types.ts'

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

/**
 * Webhooks: the subscriptions, and the durable outbox their deliveries come from. Nothing here moves
 * the version: no instance caches webhooks, each delivery reads its webhook. Creating and removing one
 * append their audit row in the same transaction; removing one that is gone appends none. Admin
 * changes elsewhere put their events in the outbox in their own transaction (trail.ts).
 */
export interface WebhookStore {
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
   * the store, at most one event ever holds a key (until pruned).
   */
  enqueueWebhookEvent(event: OutboxEvent, onlyWebhookId?: string): Promise<boolean>
  /**
   * Takes up to `limit` deliveries due at `nowMs`, earliest due first, and leases them until
   * `nowMs + leaseMs`: no other process claims them meanwhile (claims at once take disjoint ones; one
   * that crashed mid-attempt leaves them to be claimed again once the lease ends).
   */
  claimWebhookDeliveries(nowMs: number, leaseMs: number, limit: number): Promise<ClaimedDelivery[]>
  /** Records an attempt's outcome and ends the lease. */
  recordWebhookAttempt(attempt: WebhookAttempt): Promise<void>
  /** A webhook's latest `limit` deliveries, newest first. */
  listWebhookDeliveries(webhookId: string, limit: number): Promise<WebhookDelivery[]>
  /** Drops events (and their deliveries) created before `beforeMs`, freeing their dedupe keys (housekeeping). */
  pruneWebhookEvents(beforeMs: number): Promise<void>
}
