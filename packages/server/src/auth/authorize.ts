import { VoxgateError, type GrantName } from '@voxgate/protocol'
import type { Principal } from './principal.ts'

/** What a route demands of its caller: a grant (tokens) or an API key outright. */
/** `any`: any valid credential (a token describing itself). */
export type Requirement = { grant: GrantName } | 'api_key' | 'any'

/**
 * API keys reach every route. A token reaches a route only through a grant that names it, and never
 * reaches a route that demands a key (minting, revocation, key management).
 */
export function authorize(principal: Principal, requirement: Requirement): void {
  if (principal.kind === 'api_key' || requirement === 'any') return
  if (requirement === 'api_key') {
    throw new VoxgateError('api_key_required', 'This route needs an API key; access tokens cannot use it.')
  }
  if (principal.grants[requirement.grant] !== true) {
    throw new VoxgateError('insufficient_scope', `The access token has no "${requirement.grant}" grant.`)
  }
}
