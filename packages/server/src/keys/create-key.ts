import { generateApiKey } from '../auth/api-keys.ts'
import { cliOrigin } from '../audit/origin.ts'
import { isoOrNull } from '../clock.ts'
import type { KeyPolicy, Scope } from '../scopes.ts'
import { DEFAULT_SCOPES, FULL_SCOPES } from '../scopes.ts'
import { auditDraft, type AuditOrigin } from '../store/audit-types.ts'
import type { ApiKeyStore } from '../store/types.ts'
import type { EventSink } from '../webhooks/outbox.ts'
import { createdView, keyCreatedEvent } from './events.ts'

export interface KeyOptions {
  /** Who creates it, for the audit row. @default the CLI */
  origin?: AuditOrigin
  /** Absent: `admin` for the first key of a store (someone must be able to administer it), else DEFAULT_SCOPES. */
  scopes?: readonly Scope[]
  policy?: KeyPolicy | null
  /** Epoch ms; absent: never expires. */
  expiresAt?: number | null
  /** Told once `api_key.created` is in the outbox (the server's sends it at once); absent: a running server sends it. */
  events?: EventSink
}

/**
 * Makes an API key and stores its hash with its audit row and its `api_key.created` event, in one
 * transaction; the key itself is in the answer and nowhere else. The CLI (`voxgate keys create`, the
 * first key) and the key admin API (`POST /api-keys`) both make keys here.
 */
export async function createKey(store: ApiKeyStore, name: string, nowMs: number, options: KeyOptions = {}) {
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
  const record = { ...key, name, createdAt: nowMs, scopes, policy, expiresAt }
  await store.createApiKey(record, { audit, event: keyCreatedEvent(nowMs) })
  options.events?.stored()
  return { ...createdView(record), key: key.key }
}
