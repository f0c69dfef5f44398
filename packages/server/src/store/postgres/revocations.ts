import type { Revocation, RevocationStore } from '../revocations.ts'
import type { PgContext } from './context.ts'

/** A revocation as the snapshot reads it (store.ts). */
export interface RevocationJson {
  kind: 'jti' | 'sub'
  value: string
  issued_before: number | null
  expires_at: number
}

export const toRevocation = (r: RevocationJson): Revocation =>
  r.kind === 'jti'
    ? { kind: 'jti', jti: r.value, expiresAt: r.expires_at }
    : { kind: 'sub', sub: r.value, issuedBefore: r.issued_before ?? 0, expiresAt: r.expires_at }

/** Revocations in PostgreSQL (revocations.ts states the contract). */
export function pgRevocations(ctx: PgContext): RevocationStore {
  return {
    async addRevocation(r, audit) {
      const [value, issuedBefore] = r.kind === 'jti' ? [r.jti, null] : [r.sub, r.issuedBefore]
      await ctx.versioned(
        'INSERT INTO revocations (kind, value, issued_before, expires_at) VALUES ($1, $2, $3, $4) RETURNING 1',
        [r.kind, value, issuedBefore, r.expiresAt],
        audit,
      )
    },
  }
}
