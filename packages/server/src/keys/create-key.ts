import { generateApiKey } from '../auth/api-keys.ts'
import { cliOrigin } from '../audit/origin.ts'
import { isoOrNull } from '../clock.ts'
import type { KeyPolicy, Scope } from '../scopes.ts'
import { DEFAULT_SCOPES, FULL_SCOPES } from '../scopes.ts'
import { auditDraft, type AuditOrigin } from '../store/audit-types.ts'
import type { Store } from '../store/types.ts'
import { storeEvents, type EventSink } from '../webhooks/outbox.ts'

export interface KeyOptions {
  /** Who creates it, for the audit row. @default the CLI */
  origin?: AuditOrigin
  /** Absent: `admin` for the first key of a store (someone must be able to administer it), else DEFAULT_SCOPES. */
  scopes?: readonly Scope[]
  policy?: KeyPolicy | null
  /** Epoch ms; absent: never expires. */
  expiresAt?: number | null
  /** Where `api_key.created` goes; absent: the store's outbox. */
  events?: EventSink
}

/**
 * Makes an API key and stores its hash with its audit row; the key itself is in the answer and nowhere
 * else. The CLI (`voxgate keys create`, the first key) and the key admin API (`POST /api-keys`) both
 * make keys here.
 */
export async function createKey(store: Store, name: string, nowMs: number, options: KeyOptions = {}) {
  const key = generateApiKey()
  const scopes = [...(options.scopes ?? ((await store.listApiKeys()).length === 0 ? FULL_SCOPES : DEFAULT_SCOPES))]
  const policy = options.policy ?? null
  const expiresAt = options.expiresAt ?? null
  const audit = auditDraft(options.origin ?? cliOrigin(), {
    at: nowMs,
    action: 'api_key.created',
    target: { type: 'api_key', id: key.id },
    details: { name, scopes, policy, expires_at: isoOrNull(expiresAt) },
  })
  await store.createApiKey({ ...key, name, createdAt: nowMs, scopes, policy, expiresAt }, audit)
  const view = { id: key.id, name, scopes, created_at: isoOrNull(nowMs), expires_at: isoOrNull(expiresAt) }
  await (options.events ?? storeEvents(store)).enqueue('api_key.created', view, { atMs: nowMs })
  return { id: key.id, key: key.key, name, scopes, created_at: view.created_at, expires_at: view.expires_at }
}

/** The `api_key.revoked` webhook event of a key just revoked (its id and name; never a secret). */
export async function announceRevoked(
  store: Store,
  id: string,
  nowMs: number,
  events: EventSink = storeEvents(store),
): Promise<void> {
  const key = await store.getApiKey(id)
  await events.enqueue('api_key.revoked', { id, name: key?.name ?? null }, { atMs: nowMs })
}
