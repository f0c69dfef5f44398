/**
 * The shared counters contract (src/store/counters.ts): stream slots and rate windows.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { moved, type WithStore } from './helpers.ts'

export function countersContract(withStore: WithStore): void {
  test('stream slots: racing acquires never pass the limit; expired leases free themselves; renew and release', () =>
    withStore(async (s) => {
      const now = 1_000_000
      const got = await Promise.all(
        Array.from({ length: 20 }, (_, i) => s.acquireSlot('tok_s', `lease-${i}`, 3, now, 15_000)),
      )
      assert.equal(got.filter(Boolean).length, 3)
      assert.equal(await s.countSlots('tok_s', now), 3)
      assert.equal(
        await moved(s, () => s.acquireSlot('tok_other', 'x', 1, now, 15_000)),
        0,
        'counters never move the version',
      )
      const holders = got.flatMap((ok, i) => (ok ? [`lease-${i}`] : []))
      // Renewed leases outlive the first TTL; one released frees its slot at once.
      await s.renewSlots(
        holders.map((leaseId) => ({ jti: 'tok_s', leaseId })),
        now + 10_000,
        15_000,
      )
      assert.equal(await s.countSlots('tok_s', now + 20_000), 3)
      await s.releaseSlot('tok_s', holders[0]!)
      assert.equal(await s.acquireSlot('tok_s', 'lease-new', 3, now + 20_000, 15_000), true)
      assert.equal(await s.acquireSlot('tok_s', 'lease-over', 3, now + 20_000, 15_000), false)
      // Nobody renews after that: past the TTL every lease is gone.
      assert.equal(await s.countSlots('tok_s', now + 60_000), 0)
      assert.equal(await s.acquireSlot('tok_s', 'lease-late', 1, now + 60_000, 15_000), true)
    }))

  test('rate windows: racing hits never pass the limit; the answer says how long to wait; a new window starts afresh', () =>
    withStore(async (s) => {
      const now = 5_000_000
      const waits = await Promise.all(Array.from({ length: 10 }, () => s.takeRate('mint:key_1', 4, 60_000, now)))
      assert.equal(waits.filter((w) => w === 0).length, 4)
      assert.ok(
        waits.filter((w) => w > 0).every((w) => w === 60_000),
        waits.join(','),
      )
      assert.equal(await s.takeRate('mint:key_1', 4, 60_000, now + 59_000), 1000)
      assert.equal(await s.takeRate('mint:key_2', 4, 60_000, now), 0, 'windows are per key')
      assert.equal(await s.takeRate('mint:key_1', 4, 60_000, now + 60_000), 0, 'the next window')
    }))
}
