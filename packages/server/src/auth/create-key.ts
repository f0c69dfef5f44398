import { DEFAULT_SCOPES, FULL_SCOPES, type KeyPolicy, type Scope } from '../keys/scopes.ts'
import type { Store } from '../store/types.ts'
import { generateApiKey } from './api-keys.ts'

/** An epoch-ms time as the API writes it (RFC 3339, UTC), or null. */
export const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString())

export interface KeyOptions {
  /** Absent: `admin` for the first key of a store (someone must be able to administer it), else DEFAULT_SCOPES. */
  scopes?: readonly Scope[]
  policy?: KeyPolicy | null
  /** Epoch ms; absent: never expires. */
  expiresAt?: number | null
}

/**
 * Makes an API key and stores its hash; the key itself is in the answer and nowhere else. The CLI
 * (`voxgate keys create`, the first key) and the key admin API (`POST /api-keys`) both make keys here.
 */
export async function createKey(store: Store, name: string, nowMs: number, options: KeyOptions = {}) {
  const key = generateApiKey()
  const scopes = [...(options.scopes ?? ((await store.listApiKeys()).length === 0 ? FULL_SCOPES : DEFAULT_SCOPES))]
  const policy = options.policy ?? null
  const expiresAt = options.expiresAt ?? null
  await store.createApiKey({ ...key, name, createdAt: nowMs, scopes, policy, expiresAt })
  return { id: key.id, key: key.key, name, scopes, created_at: iso(nowMs), expires_at: iso(expiresAt) }
}
