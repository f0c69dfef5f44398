import { auditDraft, type AuditOrigin } from '../store/audit-types.ts'
import type { ApiKeyStore, KeyChangeResult } from '../store/types.ts'
import type { EventSink } from '../webhooks/outbox.ts'
import { keyRevokedEvent } from './events.ts'

export interface Revocation {
  id: string
  nowMs: number
  origin: AuditOrigin
  /** Told once `api_key.revoked` is in the outbox (the server's sends it at once); absent: a running server sends it. */
  events?: EventSink | undefined
}

/**
 * Revokes a live key, never the last admin one: the one implementation behind `DELETE /api-keys/:id`
 * and `voxgate keys revoke`. The revocation, its audit row and its `api_key.revoked` event land in one
 * transaction; a refusal (missing key, last admin key) writes none of them.
 */
export async function revokeKey(store: ApiKeyStore, r: Revocation): Promise<KeyChangeResult> {
  const audit = auditDraft(r.origin, { at: r.nowMs, action: 'api_key.revoked', target: { type: 'api_key', id: r.id } })
  const result = await store.removeApiKey(r.id, r.nowMs, { audit, event: keyRevokedEvent(r.nowMs) })
  if (result === 'changed') r.events?.stored()
  return result
}
