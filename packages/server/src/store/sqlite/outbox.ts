import type Database from 'better-sqlite3'
import type { ClaimedDelivery, OutboxEvent, WebhookAttempt, WebhookDelivery } from '../webhooks.ts'

export const OUTBOX_SCHEMA = `
CREATE TABLE IF NOT EXISTS webhook_events (id TEXT PRIMARY KEY, type TEXT NOT NULL, body TEXT NOT NULL,
  created_at INTEGER NOT NULL, dedupe_key TEXT UNIQUE);
CREATE INDEX IF NOT EXISTS webhook_events_created_at ON webhook_events (created_at);
CREATE TABLE IF NOT EXISTS webhook_deliveries (webhook_id TEXT NOT NULL, event_id TEXT NOT NULL,
  attempt INTEGER NOT NULL DEFAULT 0, status_code INTEGER, error TEXT, next_attempt_at INTEGER,
  leased_until INTEGER NOT NULL DEFAULT 0, delivered_at INTEGER, created_at INTEGER NOT NULL,
  PRIMARY KEY (webhook_id, event_id));
CREATE INDEX IF NOT EXISTS webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE next_attempt_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS webhook_deliveries_event ON webhook_deliveries (event_id);
`

interface DeliveryRow {
  webhook_id: string
  event_id: string
  type: string
  attempt: number
  status_code: number | null
  error: string | null
  next_attempt_at: number | null
  delivered_at: number | null
  created_at: number
}
interface ClaimRow {
  webhook_id: string
  event_id: string
  type: string
  body: string
  url: string
  secret: string
  attempt: number
  event_created_at: number
}
const toDelivery = (r: DeliveryRow): WebhookDelivery => ({
  webhookId: r.webhook_id,
  eventId: r.event_id,
  type: r.type,
  attempt: r.attempt,
  statusCode: r.status_code,
  error: r.error,
  nextAttemptAt: r.next_attempt_at,
  deliveredAt: r.delivered_at,
  createdAt: r.created_at,
})
const toClaimed = (r: ClaimRow): ClaimedDelivery => ({
  webhookId: r.webhook_id,
  eventId: r.event_id,
  type: r.type,
  body: r.body,
  url: r.url,
  secret: r.secret,
  attempt: r.attempt,
  eventCreatedAt: r.event_created_at,
})

/**
 * The webhook outbox in SQLite. Its calls are synchronous and hold no transaction of their own, so
 * a change can put its event in the outbox inside its own transaction (context.ts); the store's
 * calls wrap them (webhooks.ts).
 */
export class SqliteOutbox {
  readonly #stmt

  constructor(db: Database.Database) {
    this.#stmt = {
      subscribers: db.prepare<[], { id: string; events: string }>(
        'SELECT id, events FROM webhooks ORDER BY created_at, id',
      ),
      eventInsert: db.prepare(
        'INSERT INTO webhook_events (id, type, body, created_at, dedupe_key) VALUES (?, ?, ?, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING',
      ),
      deliveryInsert: db.prepare(
        'INSERT INTO webhook_deliveries (webhook_id, event_id, next_attempt_at, created_at) VALUES (?, ?, ?, ?)',
      ),
      due: db.prepare<[number, number, number], ClaimRow>(
        `SELECT d.webhook_id, d.event_id, e.type, e.body, w.url, w.secret, d.attempt, e.created_at AS event_created_at
         FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id JOIN webhooks w ON w.id = d.webhook_id
         WHERE d.next_attempt_at IS NOT NULL AND d.next_attempt_at <= ? AND d.leased_until <= ?
         ORDER BY d.next_attempt_at LIMIT ?`,
      ),
      lease: db.prepare('UPDATE webhook_deliveries SET leased_until = ? WHERE webhook_id = ? AND event_id = ?'),
      record: db.prepare(
        `UPDATE webhook_deliveries SET attempt = ?, status_code = ?, error = ?, next_attempt_at = ?, delivered_at = ?, leased_until = 0
         WHERE webhook_id = ? AND event_id = ?`,
      ),
      deliveries: db.prepare<[string, number], DeliveryRow>(
        `SELECT d.*, e.type FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
         WHERE d.webhook_id = ? ORDER BY d.created_at DESC, d.event_id DESC LIMIT ?`,
      ),
      dropWebhook: db.prepare('DELETE FROM webhook_deliveries WHERE webhook_id = ?'),
      pruneDeliveries: db.prepare(
        'DELETE FROM webhook_deliveries WHERE event_id IN (SELECT id FROM webhook_events WHERE created_at < ?)',
      ),
      pruneEvents: db.prepare('DELETE FROM webhook_events WHERE created_at < ?'),
    }
  }

  /** Stores the event and its deliveries; false, storing nothing, when its dedupe key is taken. */
  enqueue(e: OutboxEvent, onlyWebhookId?: string): boolean {
    if (this.#stmt.eventInsert.run(e.id, e.type, e.body, e.createdAt, e.dedupeKey).changes === 0) return false
    const targets = this.#stmt.subscribers
      .all()
      .filter((w) => (onlyWebhookId === undefined ? JSON.parse(w.events).includes(e.type) : w.id === onlyWebhookId))
    for (const w of targets) this.#stmt.deliveryInsert.run(w.id, e.id, e.createdAt, e.createdAt)
    return true
  }

  /** Due deliveries, leased until `nowMs + leaseMs`; call it inside an IMMEDIATE transaction. */
  claim(nowMs: number, leaseMs: number, limit: number): ClaimedDelivery[] {
    const rows = this.#stmt.due.all(nowMs, nowMs, limit)
    for (const r of rows) this.#stmt.lease.run(nowMs + leaseMs, r.webhook_id, r.event_id)
    return rows.map(toClaimed)
  }

  record(a: WebhookAttempt): void {
    this.#stmt.record.run(a.attempt, a.statusCode, a.error, a.nextAttemptAt, a.deliveredAt, a.webhookId, a.eventId)
  }

  deliveries(webhookId: string, limit: number): WebhookDelivery[] {
    return this.#stmt.deliveries.all(webhookId, limit).map(toDelivery)
  }

  /** Drops a removed webhook's deliveries. */
  dropWebhook(webhookId: string): void {
    this.#stmt.dropWebhook.run(webhookId)
  }

  prune(beforeMs: number): void {
    this.#stmt.pruneDeliveries.run(beforeMs)
    this.#stmt.pruneEvents.run(beforeMs)
  }
}
