/**
 * The contract of what spans the concerns (src/store/state.ts): the snapshot, the version, pruning.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { HOUR, moved, type WithStore } from './helpers.ts'

export function stateContract(withStore: WithStore): void {
  test('prune drops only what is past the cutoff, and moves the version only when it drops something', () =>
    withStore(async (s) => {
      await s.addSigningKey({ kid: 'old', privatePem: 'P', createdAt: 0, retiredAt: null })
      await s.retireSigningKey('old', 1 * HOUR)
      await s.addSigningKey({ kid: 'current', privatePem: 'P', createdAt: 1 * HOUR, retiredAt: null })
      await s.addRevocation({ kind: 'jti', jti: 'gone', expiresAt: 2 * HOUR })
      await s.addRevocation({ kind: 'jti', jti: 'kept', expiresAt: 5 * HOUR })
      assert.ok((await moved(s, () => s.prune(3 * HOUR))) > 0)
      const snap = await s.snapshot()
      assert.deepEqual(
        snap.signingKeys.map((k) => k.kid),
        ['current'],
      )
      assert.deepEqual(
        snap.revocations.map((r) => (r.kind === 'jti' ? r.jti : r.sub)),
        ['kept'],
      )
      assert.equal(await moved(s, () => s.prune(3 * HOUR)), 0, 'nothing left to prune')
    }))
}
