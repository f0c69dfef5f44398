import type { AuditDraft } from './audit-types.ts'
import type { OutboxEvent } from './webhooks.ts'

/**
 * What an admin change leaves besides itself (issue 22): its audit row and the webhook event that
 * announces it. The store writes both in the change's own transaction, and only when the change
 * changed something: the change, its row and its event land together or not at all.
 *
 * `event` is made from `T`, what the change left (the key as changed, the signing keys it retired),
 * known only inside the transaction; the store calls it there. The event's body is fixed by its maker
 * (webhooks/outbox.ts `outboxEvent`), so the store never needs to know the webhook format.
 */
export interface ChangeTrail<T> {
  audit?: AuditDraft | undefined
  event?: ((result: T) => OutboxEvent) | undefined
}
