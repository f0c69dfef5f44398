import { seal, unseal } from '../key-sealing.ts'
import type { SigningKeyRecord, SigningKeyStore } from '../signing-keys.ts'
import { writeTrail, type PgContext } from './context.ts'

/** A signing key as the snapshot reads it (store.ts): its PEM still sealed. */
export interface SealedSigningKey {
  kid: string
  sealed: string
  created_at: number
  retired_at: number | null
}

/** Opens a sealed key; a wrong KEK or a key moved to another kid is `kek_wrong`. */
export const unsealSigningKey = (kek: Buffer, k: SealedSigningKey): SigningKeyRecord => ({
  kid: k.kid,
  privatePem: unseal(kek, k.kid, k.sealed),
  createdAt: k.created_at,
  retiredAt: k.retired_at,
})

/** Signing keys in PostgreSQL (signing-keys.ts states the contract), sealed with the KEK, the kid as associated data. */
export function pgSigningKeys(ctx: PgContext): SigningKeyStore {
  return {
    async addSigningKey(r) {
      await ctx.versioned(
        'INSERT INTO signing_keys (kid, private_key_sealed, created_at) VALUES ($1, $2, $3) RETURNING 1',
        [r.kid, seal(ctx.kek, r.kid, r.privatePem), r.createdAt],
      )
    },

    async retireSigningKey(kid, atMs) {
      await ctx.versioned('UPDATE signing_keys SET retired_at = $1 WHERE kid = $2 AND retired_at IS NULL RETURNING 1', [
        atMs,
        kid,
      ])
    },

    async replaceSigningKey(r, trail) {
      return ctx.transaction(async (query) => {
        const { rows } = await query<{ kid: string }>(
          `WITH retired AS (UPDATE signing_keys SET retired_at = $3 WHERE retired_at IS NULL RETURNING kid, created_at),
          added AS (INSERT INTO signing_keys (kid, private_key_sealed, created_at) VALUES ($1, $2, $3)),
          bump AS (UPDATE meta SET value = value + 1 WHERE name = 'version')
          SELECT kid FROM retired ORDER BY created_at, kid`,
          [r.kid, seal(ctx.kek, r.kid, r.privatePem), r.createdAt],
        )
        const retired = rows.map((k) => k.kid)
        const audit = trail?.audit && { ...trail.audit, details: { ...trail.audit.details, retired } }
        await writeTrail(query, { ...trail, audit }, retired)
        return retired
      })
    },
  }
}
