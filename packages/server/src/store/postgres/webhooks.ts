import { seal, unseal } from '../key-sealing.ts'
import type { WebhookRecord, WebhookStore } from '../webhooks.ts'
import { appendAudit } from './audit.ts'
import type { PgQuery } from './connection.ts'
import type { PgContext } from './context.ts'
import { CLAIM, enqueueIn } from './outbox.ts'

interface WebhookRow {
  id: string
  url: string
  events: string[]
  secret_sealed: string
  created_at: string
}
interface DeliveryRow {
  webhook_id: string
  event_id: string
  type: string
  attempt: number
  status_code: number | null
  error: string | null
  next_attempt_at: string | null
  delivered_at: string | null
  created_at: string
}
interface ClaimRow {
  webhook_id: string
  event_id: string
  type: string
  body: string
  url: string
  secret_sealed: string
  attempt: number
  event_created_at: string
}

const num = (v: string | null): number | null => (v === null ? null : Number(v))
/** Webhook secrets are sealed as signing keys are, bound to their webhook's id. */
const webhookAad = (id: string) => `webhook:${id}`

/** Webhooks and their outbox in PostgreSQL (webhooks.ts states the contract). */
export function pgWebhooks(ctx: PgContext): WebhookStore {
  const { query, kek } = ctx
  const toWebhook = (r: WebhookRow): WebhookRecord => ({
    id: r.id,
    url: r.url,
    events: r.events,
    secret: unseal(kek, webhookAad(r.id), r.secret_sealed),
    createdAt: Number(r.created_at),
  })
  /** Runs a webhook change alone, or with its audit row in one transaction. */
  const withAudit = <T>(
    work: (q: PgQuery) => Promise<T>,
    audit: Parameters<typeof appendAudit>[1] | undefined,
    when: (r: T) => boolean,
  ) =>
    audit
      ? ctx.transaction(async (q) => {
          const result = await work(q)
          if (when(result)) await appendAudit(q, audit)
          return result
        })
      : work(query)

  // Webhooks are not versioned changes: no instance caches them, each delivery reads its webhook.
  return {
    async createWebhook(w, audit) {
      const insert = (q: PgQuery) =>
        q('INSERT INTO webhooks (id, url, events, secret_sealed, created_at) VALUES ($1, $2, $3, $4, $5)', [
          w.id,
          w.url,
          JSON.stringify(w.events),
          seal(kek, webhookAad(w.id), w.secret),
          w.createdAt,
        ])
      await withAudit(insert, audit, () => true)
    },

    async listWebhooks() {
      return (await query<WebhookRow>('SELECT * FROM webhooks ORDER BY created_at, id')).rows.map(toWebhook)
    },

    async getWebhook(id) {
      const row = (await query<WebhookRow>('SELECT * FROM webhooks WHERE id = $1', [id])).rows[0]
      return row && toWebhook(row)
    },

    async removeWebhook(id, audit) {
      const remove = async (q: PgQuery) =>
        (
          await q<{ n: number }>(
            `WITH w AS (DELETE FROM webhooks WHERE id = $1 RETURNING 1),
             d AS (DELETE FROM webhook_deliveries WHERE webhook_id = $1 RETURNING 1)
             SELECT count(*)::int AS n FROM w`,
            [id],
          )
        ).rows[0]!.n === 1
      // Nothing removed, nothing recorded.
      return withAudit(remove, audit, (removed) => removed)
    },

    async setWebhookSecret(id, secret) {
      const sql = 'UPDATE webhooks SET secret_sealed = $2 WHERE id = $1'
      return (await query(sql, [id, seal(kek, webhookAad(id), secret)])).rowCount === 1
    },

    enqueueWebhookEvent: (e, onlyWebhookId) => enqueueIn(query, e, onlyWebhookId),

    async claimWebhookDeliveries(nowMs, leaseMs, limit) {
      const { rows } = await query<ClaimRow>(CLAIM, [nowMs, leaseMs, limit])
      return rows.map((r) => ({
        webhookId: r.webhook_id,
        eventId: r.event_id,
        type: r.type,
        body: r.body,
        url: r.url,
        secret: unseal(kek, webhookAad(r.webhook_id), r.secret_sealed),
        attempt: r.attempt,
        eventCreatedAt: Number(r.event_created_at),
      }))
    },

    async recordWebhookAttempt(a) {
      await query(
        `UPDATE webhook_deliveries SET attempt = $3, status_code = $4, error = $5, next_attempt_at = $6, delivered_at = $7,
           leased_until = 0 WHERE webhook_id = $1 AND event_id = $2`,
        [a.webhookId, a.eventId, a.attempt, a.statusCode, a.error, a.nextAttemptAt, a.deliveredAt],
      )
    },

    async listWebhookDeliveries(webhookId, limit) {
      const { rows } = await query<DeliveryRow>(
        `SELECT d.*, e.type FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
         WHERE d.webhook_id = $1 ORDER BY d.created_at DESC, d.event_id DESC LIMIT $2`,
        [webhookId, limit],
      )
      return rows.map((r) => ({
        webhookId: r.webhook_id,
        eventId: r.event_id,
        type: r.type,
        attempt: r.attempt,
        statusCode: r.status_code,
        error: r.error,
        nextAttemptAt: num(r.next_attempt_at),
        deliveredAt: num(r.delivered_at),
        createdAt: Number(r.created_at),
      }))
    },

    async pruneWebhookEvents(beforeMs) {
      await query(
        `WITH gone AS (DELETE FROM webhook_events WHERE created_at < $1 RETURNING id)
         DELETE FROM webhook_deliveries WHERE event_id IN (SELECT id FROM gone)`,
        [beforeMs],
      )
    },
  }
}
