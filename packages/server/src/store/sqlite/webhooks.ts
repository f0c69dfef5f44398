import type { WebhookRecord, WebhookStore } from '../webhooks.ts'
import type { SqliteContext } from './context.ts'
import type { SqliteOutbox } from './outbox.ts'

export const WEBHOOKS_SCHEMA = `
CREATE TABLE IF NOT EXISTS webhooks (id TEXT PRIMARY KEY, url TEXT NOT NULL, events TEXT NOT NULL, secret TEXT NOT NULL,
  created_at INTEGER NOT NULL);
`

interface WebhookRow {
  id: string
  url: string
  events: string
  secret: string
  created_at: number
}
const toWebhook = (r: WebhookRow): WebhookRecord => ({
  id: r.id,
  url: r.url,
  events: JSON.parse(r.events),
  secret: r.secret,
  createdAt: r.created_at,
})

/** Webhooks and their outbox in SQLite (webhooks.ts states the contract). */
export function sqliteWebhooks(ctx: SqliteContext, outbox: SqliteOutbox): WebhookStore {
  const { db } = ctx
  const stmt = {
    insert: db.prepare('INSERT INTO webhooks (id, url, events, secret, created_at) VALUES (?, ?, ?, ?, ?)'),
    all: db.prepare<[], WebhookRow>('SELECT * FROM webhooks ORDER BY created_at, id'),
    byId: db.prepare<[string], WebhookRow>('SELECT * FROM webhooks WHERE id = ?'),
    delete: db.prepare('DELETE FROM webhooks WHERE id = ?'),
    secret: db.prepare('UPDATE webhooks SET secret = ? WHERE id = ?'),
  }
  // Webhooks are not versioned changes: no instance caches them, each delivery reads its webhook.
  return {
    async createWebhook(w, audit) {
      db.transaction(() => {
        stmt.insert.run(w.id, w.url, JSON.stringify(w.events), w.secret, w.createdAt)
        ctx.audit(audit)
      })()
    },

    async listWebhooks() {
      return stmt.all.all().map(toWebhook)
    },

    async getWebhook(id) {
      const row = stmt.byId.get(id)
      return row && toWebhook(row)
    },

    async removeWebhook(id, audit) {
      return db.transaction(() => {
        outbox.dropWebhook(id)
        const removed = stmt.delete.run(id).changes === 1
        // Nothing removed, nothing recorded.
        if (removed) ctx.audit(audit)
        return removed
      })()
    },

    async setWebhookSecret(id, secret) {
      return stmt.secret.run(secret, id).changes === 1
    },

    // IMMEDIATE: the dedupe key is checked and the deliveries written under the write lock, so two
    // processes crossing the same threshold store one event.
    async enqueueWebhookEvent(e, onlyWebhookId) {
      return db.transaction(() => outbox.enqueue(e, onlyWebhookId)).immediate()
    },

    async claimWebhookDeliveries(nowMs, leaseMs, limit) {
      return db.transaction(() => outbox.claim(nowMs, leaseMs, limit)).immediate()
    },

    async recordWebhookAttempt(a) {
      outbox.record(a)
    },

    async listWebhookDeliveries(webhookId, limit) {
      return outbox.deliveries(webhookId, limit)
    },

    async pruneWebhookEvents(beforeMs) {
      db.transaction(() => outbox.prune(beforeMs))()
    },
  }
}
