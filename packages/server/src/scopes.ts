import type { GrantName, TokenLimits } from '@voxgate/protocol'

/**
 * What an API key may do (issue 22). `admin` implies every other scope; the others are disjoint:
 * `mint` (access tokens), `speech` (the speech routes with the key itself), `read` (usage, quotas,
 * keys, audit). Tokens never carry scopes: they carry grants. Kept with the key records, below both
 * the store that holds them and auth that checks them.
 */
export type Scope = 'mint' | 'speech' | 'read' | 'admin'
export const SCOPES: readonly Scope[] = ['mint', 'speech', 'read', 'admin']

/**
 * What an API key needs to call a route: a scope, `any` (any valid credential: the route checks
 * what it is), or `public` (no credential at all). Tokens are checked by their grants instead.
 * Each route's doc gives it one (http/route-doc.ts; http/scopes.ts builds the table).
 */
export type RouteAccess = Scope | 'any' | 'public'

/** Keys made before scopes existed, and the first key of a fresh store, hold every power. */
export const FULL_SCOPES: readonly Scope[] = ['admin']
/** Keys made later, unless told otherwise: an app backend's key, which mints and speaks. */
export const DEFAULT_SCOPES: readonly Scope[] = ['mint', 'speech']

/**
 * Bounds on what a key may mint; a mint outside them is refused naming the field. Absent fields
 * bound nothing.
 */
export interface KeyPolicy {
  /** Grants a minted token may carry. */
  allowed_grants?: GrantName[]
  /** Longest `expires_in`, seconds. */
  max_expires_in?: number
  /** Each named budget must be present in the mint and at most this. */
  max_limits?: Pick<TokenLimits, 'characters' | 'audio_seconds'>
}

export const hasScope = (held: readonly Scope[], needed: Scope): boolean =>
  held.includes('admin') || held.includes(needed)

export const isScope = (value: unknown): value is Scope => SCOPES.includes(value as Scope)
