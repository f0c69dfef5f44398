import { generateApiKey } from '../auth/api-keys.ts'
import { auditDraft, type AuditOrigin } from '../store/audit-types.ts'
import type { ApiKeyStore } from '../store/types.ts'
import type { EventSink } from '../webhooks/outbox.ts'
import { keyRotatedEvent } from './events.ts'

/** How long a rotated-out secret keeps working, by default and at most (seconds). */
export const ROTATION_GRACE_DEFAULT_SECONDS = 86_400
export const ROTATION_GRACE_MAX_SECONDS = 604_800

export interface Rotation {
  id: string
  graceSeconds: number
  nowMs: number
  origin: AuditOrigin
  /** Told once `api_key.rotated` is in the outbox (the server's sends it at once); absent: a running server sends it. */
  events?: EventSink | undefined
}

/**
 * Gives a live key a new secret: the one implementation behind `POST /api-keys/:id/rotate` and `voxgate keys rotate`.
 * The key keeps its id, so usage, quotas, the ledger and its tokens stay with it; the secret it
 * replaces works until the grace ends (a previous one from an earlier rotation stops at once).
 * The rotation, its audit row and its `api_key.rotated` event (the id only) land in one transaction.
 * Undefined when no live key has the id.
 */
export async function rotateKey(store: ApiKeyStore, r: Rotation) {
  const fresh = generateApiKey()
  const until = r.nowMs + r.graceSeconds * 1000
  const rotatingUntil = new Date(until).toISOString()
  const audit = auditDraft(r.origin, {
    at: r.nowMs,
    action: 'api_key.rotated',
    target: { type: 'api_key', id: r.id },
    details: { grace_seconds: r.graceSeconds, rotating_until: rotatingUntil },
  })
  const result = await store.rotateApiKey(
    { id: r.id, hash: fresh.hash, prefix: fresh.prefix, previousUntil: until },
    { audit, event: keyRotatedEvent(r.nowMs) },
  )
  if (result === 'not_found') return undefined
  r.events?.stored()
  return { id: r.id, key: fresh.key, prefix: fresh.prefix, rotating_until: rotatingUntil }
}
