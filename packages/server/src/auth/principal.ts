import type { KeyPolicy, Scope } from '../scopes.ts'
import type { Grants, TokenLimits } from '@voxgate/protocol'

/** Who is calling, once a credential has been checked. */
export type Principal = ApiKeyPrincipal | TokenPrincipal

export interface ApiKeyPrincipal {
  kind: 'api_key'
  keyId: string
  scopes: readonly Scope[]
  policy: KeyPolicy | null
  /** Set when the credential is an operator console session's cookie (auth/console-sessions.ts), not the key itself. */
  console?: ConsoleSessionOf
}

/** The console session behind a principal. */
export interface ConsoleSessionOf {
  /** The digest of the session id (never the id: that is the cookie's secret). */
  sessionHash: string
  /** The key that signed in; null for a session started by a one-time link (`keyId` is then `console`). */
  keyId: string | null
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
