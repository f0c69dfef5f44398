/**
 * The revocations contract (src/store/revocations.ts).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { HOUR, moved, type WithStore } from './helpers.ts'

export function revocationsContract(withStore: WithStore): void {
  test('revocations of both kinds round-trip and move the version', () =>
    withStore(async (s) => {
      assert.ok((await moved(s, () => s.addRevocation({ kind: 'jti', jti: 'tok_1', expiresAt: 9 * HOUR }))) > 0)
      assert.ok(
        (await moved(s, () => s.addRevocation({ kind: 'sub', sub: 'alice', issuedBefore: 77, expiresAt: 9 * HOUR }))) >
          0,
      )
      assert.deepEqual((await s.snapshot()).revocations, [
        { kind: 'jti', jti: 'tok_1', expiresAt: 9 * HOUR },
        { kind: 'sub', sub: 'alice', issuedBefore: 77, expiresAt: 9 * HOUR },
      ])
    }))
}
