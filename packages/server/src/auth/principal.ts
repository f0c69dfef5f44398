import type { KeyPolicy, Scope } from '../scopes.ts'
import type { Grants, TokenLimits } from '@voxgate/protocol'

/** Who is calling, once a credential has been checked. */
export type Principal = ApiKeyPrincipal | TokenPrincipal

export interface ApiKeyPrincipal {
  kind: 'api_key'
  keyId: string
  scopes: readonly Scope[]
  policy: KeyPolicy | null
  /** Set when the credential is an operator console session's cookie (console/sessions.ts), not the key itself. */
  console?: { sessionHash: string }
}

export interface TokenPrincipal {
  kind: 'token'
  keyId: string
  jti: string
  grants: Grants
  issuedAtSeconds: number
  expiresAtSeconds: number
  sub?: string
  limits?: TokenLimits
}
