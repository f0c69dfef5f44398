import { VoxgateError, type Grants, type TokenLimits } from '@voxgate/protocol'
import type { KeyPolicy } from '../scopes.ts'

/** What a mint asks for, as the policy sees it. */
export interface MintAsk {
  grants: Grants
  ttlSeconds: number
  limits?: TokenLimits | undefined
}

const refuse = (field: string, why: string): VoxgateError =>
  new VoxgateError('key_policy_exceeded', `The API key's policy bounds ${field}: ${why}.`)

/** Throws 403 `key_policy_exceeded` naming the first field of the key's policy the mint goes past. */
export function checkMintPolicy(policy: KeyPolicy | null, ask: MintAsk): void {
  if (policy === null) return
  const allowed = policy.allowed_grants
  if (allowed !== undefined) {
    const extra = Object.entries(ask.grants).find(([g, on]) => on === true && !allowed.includes(g as never))
    if (extra) throw refuse('allowed_grants', `the grant "${extra[0]}" is not allowed`)
  }
  if (policy.max_expires_in !== undefined && ask.ttlSeconds > policy.max_expires_in)
    throw refuse('max_expires_in', `expires_in may be at most ${policy.max_expires_in}`)
  for (const budget of ['characters', 'audio_seconds'] as const) {
    const max = policy.max_limits?.[budget]
    if (max === undefined) continue
    const asked = ask.limits?.[budget]
    if (asked === undefined || asked > max)
      throw refuse(`max_limits.${budget}`, `the token must carry limits.${budget} of at most ${max}`)
  }
}
