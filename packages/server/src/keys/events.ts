import { isoOrNull } from '../clock.ts'
import type { ApiKeyRecord, OutboxEvent } from '../store/types.ts'
import { outboxEvent } from '../webhooks/outbox.ts'

/**
 * The webhook events of key changes, made from the key as the change left it; the store puts them in
 * the outbox in the change's own transaction (store/trail.ts). Ids, names, scopes and times only: never
 * a secret or a digest.
 */
export const keyCreatedEvent =
  (nowMs: number) =>
  (k: ApiKeyRecord): OutboxEvent =>
    outboxEvent({ type: 'api_key.created', data: createdView(k), atMs: nowMs })

export const keyRotatedEvent =
  (nowMs: number) =>
  (k: ApiKeyRecord): OutboxEvent =>
    outboxEvent({ type: 'api_key.rotated', data: { id: k.id }, atMs: nowMs })

export const keyRevokedEvent =
  (nowMs: number) =>
  (k: ApiKeyRecord): OutboxEvent =>
    outboxEvent({ type: 'api_key.revoked', data: { id: k.id, name: k.name }, atMs: nowMs })

/** A new key as the creation answer and its event show it. */
export const createdView = (k: Pick<ApiKeyRecord, 'id' | 'name' | 'scopes' | 'createdAt' | 'expiresAt'>) => ({
  id: k.id,
  name: k.name,
  scopes: k.scopes,
  created_at: isoOrNull(k.createdAt),
  expires_at: isoOrNull(k.expiresAt),
})
