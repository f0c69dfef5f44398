import type { KeyPolicy, Scope } from '../scopes.ts'
import type { ChangeTrail } from './trail.ts'

export interface ApiKeyRecord {
  id: string
  name: string
  /** What the key may do (scopes.ts); keys from before scopes existed read as `["admin"]`. */
  scopes: Scope[]
  /** Bounds on what it mints; null: none. */
  policy: KeyPolicy | null
  /** When the key stops working (401 `api_key_expired`); null: never. */
  expiresAt: number | null
  /** sha256 of the whole key, hex. The key itself is never stored. */
  hash: string
  /** After a rotation: the digest of the secret it replaced, which works until `rotatingUntil`. */
  previousHash: string | null
  /** When the replaced secret stops working (401 `api_key_expired`); null: no rotation yet. */
  rotatingUntil: number | null
  /** The first characters of the key, for people to recognise it in a list. */
  prefix: string
  createdAt: number
  lastUsedAt: number | null
  revokedAt: number | null
}

/** What `PATCH /api-keys/:id` may change; absent fields stay. */
export interface ApiKeyChange {
  name?: string | undefined
  scopes?: Scope[] | undefined
  expiresAt?: number | null | undefined
}

export type KeyChangeResult = 'changed' | 'not_found' | 'last_admin_key'

/** A key as created: everything but what using and revoking it later sets. */
export type NewApiKeyRecord = Omit<ApiKeyRecord, 'lastUsedAt' | 'revokedAt' | 'previousHash' | 'rotatingUntil'>

/**
 * A new secret for a live key: the current one becomes the previous one (working until
 * `previousUntil`), and a previous one from an earlier rotation stops at once.
 */
export interface ApiKeyRotation {
  id: string
  hash: string
  prefix: string
  previousUntil: number
}

/** A key change's audit row and webhook event; the event is made from the key as the change left it. */
export type KeyTrail = ChangeTrail<ApiKeyRecord>

/**
 * API keys, their rotation and their revocation (issue 22 item 2).
 *
 * - Every change (create, update, rotate, revoke, remove) moves the version in its own transaction; one
 *   that changes nothing (a missing or revoked key, a refused change) leaves it alone.
 * - A change given a trail writes its audit row and its outbox event in that same transaction, only
 *   when it changed the key (trail.ts): all three land, or none.
 * - `touchApiKey` never moves the version: last-used is informational, and would make every poller reload.
 * - The last live `admin` key is never revoked nor down-scoped: the check and the write are one
 *   serialized step across every process sharing the store (two removals racing for the last two
 *   admin keys: exactly one passes).
 * - A hash is unique (a second key with the same hash is rejected), and so is a previous hash.
 */
export interface ApiKeyStore {
  /** Rejects when the hash is taken. */
  createApiKey(record: NewApiKeyRecord, trail?: KeyTrail): Promise<void>
  /** The key whose current or previous (rotated) secret has this digest, revoked or not. */
  findApiKeyByHash(hash: string): Promise<ApiKeyRecord | undefined>
  /** Every key, revoked ones included, oldest first. */
  listApiKeys(): Promise<ApiKeyRecord[]>
  /** One key by id (revoked or not). */
  getApiKey(id: string): Promise<ApiKeyRecord | undefined>
  /** Revokes whatever the key's scopes (no last-admin check); false when no such key or already revoked. */
  revokeApiKey(id: string, atMs: number): Promise<boolean>
  /** Records a use; never moves the version. */
  touchApiKey(id: string, atMs: number): Promise<void>
  /** Changes a live key, unless that would leave no live `admin` key (checked in the same write). */
  updateApiKey(id: string, change: ApiKeyChange, trail?: KeyTrail): Promise<KeyChangeResult>
  /** As `revokeApiKey`, refusing to revoke the last live `admin` key (the HTTP API's DELETE, `keys revoke`). */
  removeApiKey(id: string, atMs: number, trail?: KeyTrail): Promise<KeyChangeResult>
  /** Gives a live key a new secret (ApiKeyRotation); 'not_found' for a missing or revoked key. */
  rotateApiKey(rotation: ApiKeyRotation, trail?: KeyTrail): Promise<'changed' | 'not_found'>
}
