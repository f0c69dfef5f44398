import type { AuditDraft } from './audit-types.ts'

/** A revocation rule. Tokens it matches stop working at once, streams included. */
export type Revocation =
  | { kind: 'jti'; jti: string; expiresAt: number }
  | { kind: 'sub'; sub: string; issuedBefore: number; expiresAt: number }

/**
 * Revocations of tokens (by jti) and subjects (every token of a `sub` issued before a time). Every
 * instance reads them through `snapshot()` (state.ts), in the order added; adding one moves the
 * version, with its audit row in the same transaction. `prune` drops those expired.
 */
export interface RevocationStore {
  addRevocation(revocation: Revocation, audit?: AuditDraft): Promise<void>
}
