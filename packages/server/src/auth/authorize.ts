import { VoxgateError, type GrantName } from '@voxgate/protocol'
import type { RouteAccess } from '../scopes.ts'
import type { Principal } from './principal.ts'
import { hasScope, type Scope } from '../scopes.ts'

/** What a route demands of its caller: a grant (tokens) or an API key outright. */
/** `any`: any valid credential (a token describing itself). */
export type Requirement = { grant: GrantName } | 'api_key' | 'any'

/**
 * An API key reaches a route when it holds the scope the route table names. A token reaches a route
 * only through a grant that names it, and never reaches a route that demands a key (minting,
 * revocation, key management).
 */
export function authorize(principal: Principal, requirement: Requirement, access: RouteAccess): void {
  if (principal.kind === 'api_key') {
    if (access !== 'any' && access !== 'public') requireScope(principal.scopes, access)
    return
  }
  if (requirement === 'any') return
  if (requirement === 'api_key') {
    throw new VoxgateError('api_key_required', 'This route needs an API key; access tokens cannot use it.')
  }
  if (principal.grants[requirement.grant] !== true) {
    throw new VoxgateError('insufficient_scope', `The access token has no "${requirement.grant}" grant.`)
  }
}

/** 403 `insufficient_scope` naming the scope, unless the key holds it (or `admin`). */
export function requireScope(held: readonly Scope[], needed: Scope, what = 'This route'): void {
  if (!hasScope(held, needed))
    throw new VoxgateError('insufficient_scope', `${what} needs an API key with the "${needed}" scope.`)
}
