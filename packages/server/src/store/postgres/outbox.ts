import { auditColumns, newAuditId } from '../audit-row.ts'
import type { AuditDraft } from '../audit-types.ts'
import type { OutboxEvent } from '../webhooks.ts'
import { AUDIT_INSERT } from './audit.ts'
import type { PgQuery } from './connection.ts'

/**
 * The outbox write, one statement: the event unless its dedupe key is taken (the unique index makes a
 * concurrent insert of the same key wait, then do nothing), and a delivery per subscribed webhook
 * (or the one webhook $6) for the event only if it was stored.
 */
const enqueueCtes = (p: (n: number) => string) => `ev AS (
    INSERT INTO webhook_events (id, type, body, created_at, dedupe_key) VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)})
    ON CONFLICT (dedupe_key) DO NOTHING RETURNING id),
  d AS (INSERT INTO webhook_deliveries (webhook_id, event_id, next_attempt_at, created_at)
    SELECT w.id, ev.id, ${p(4)}, ${p(4)} FROM webhooks w CROSS JOIN ev
    WHERE CASE WHEN ${p(6)}::text IS NULL THEN w.events ? ${p(2)} ELSE w.id = ${p(6)} END RETURNING 1)`
const ENQUEUE = `WITH ${enqueueCtes((n) => `$${n}`)} SELECT (SELECT count(*) FROM ev)::int AS n`

/**
 * An audit row and an event in one statement (one round trip inside a change's transaction): the
 * row's ten parameters first, then the event's six.
 */
export const AUDIT_AND_ENQUEUE = `WITH row AS (${AUDIT_INSERT} RETURNING 1), ${enqueueCtes((n) => `$${n + 10}`)}
  SELECT (SELECT count(*) FROM ev)::int AS n`

const enqueueParams = (e: OutboxEvent, onlyWebhookId?: string) => [
  e.id,
  e.type,
  e.body,
  e.createdAt,
  e.dedupeKey,
  onlyWebhookId ?? null,
]

/**
 * Claims due deliveries for one attempt: SKIP LOCKED lets instances claiming at once take disjoint
 * rows, and the lease keeps them off every other instance's list until it ends or the attempt is recorded.
 */
export const CLAIM = `UPDATE webhook_deliveries d SET leased_until = $1 + $2
  FROM webhook_events e, webhooks w
  WHERE e.id = d.event_id AND w.id = d.webhook_id AND (d.webhook_id, d.event_id) IN (
    SELECT webhook_id, event_id FROM webhook_deliveries
    WHERE next_attempt_at IS NOT NULL AND next_attempt_at <= $1 AND leased_until <= $1
    ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED)
  RETURNING d.webhook_id, d.event_id, e.type, e.body, w.url, w.secret_sealed, d.attempt, e.created_at AS event_created_at`

/**
 * Puts an event in the outbox with `query`: the pool's (a write of its own) or a change's transaction
 * (context.ts `writeTrail`). False, storing nothing, when its dedupe key is taken.
 */
export async function enqueueIn(query: PgQuery, e: OutboxEvent, onlyWebhookId?: string): Promise<boolean> {
  return (await query<{ n: number }>(ENQUEUE, enqueueParams(e, onlyWebhookId))).rows[0]!.n === 1
}

/** Appends an audit row and puts an event in the outbox in one statement, with the query of a change's transaction. */
export async function appendAuditAndEnqueue(query: PgQuery, audit: AuditDraft, e: OutboxEvent): Promise<void> {
  await query(AUDIT_AND_ENQUEUE, [...auditColumns(audit, newAuditId()), ...enqueueParams(e)])
}
