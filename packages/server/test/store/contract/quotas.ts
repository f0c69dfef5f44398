/**
 * The quotas contract (src/store/quotas.ts).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { moved, type WithStore } from './helpers.ts'

export function quotasContract(withStore: WithStore): void {
  test('quotas: one per sub, key and period; a put keeps the id and takes the new caps; changes move the version', () =>
    withStore(async (s) => {
      const q = {
        id: 'q_a',
        sub: 'ann',
        keyId: null,
        period: 'day' as const,
        characters: 100,
        audioSeconds: null,
        alertAt: null,
        createdAt: 5,
      }
      let put: Awaited<ReturnType<typeof s.putQuota>> | undefined
      assert.ok(
        (await moved(s, async () => {
          put = await s.putQuota(q)
        })) > 0,
      )
      assert.deepEqual(put, { quota: q, created: true })
      const again = await s.putQuota({ ...q, id: 'q_other', characters: 200, audioSeconds: 60, createdAt: 9 })
      assert.deepEqual(again, { quota: { ...q, characters: 200, audioSeconds: 60 }, created: false })
      await s.putQuota({ ...q, id: 'q_b', period: 'month' })
      await s.putQuota({
        id: 'q_c',
        sub: null,
        keyId: 'key_1',
        period: 'day',
        characters: null,
        audioSeconds: 30,
        createdAt: 7,
      })
      await s.putQuota({
        id: 'q_d',
        sub: null,
        keyId: null,
        period: 'month',
        characters: 1,
        audioSeconds: null,
        createdAt: 8,
      })
      assert.deepEqual(
        (await s.listQuotas()).map((x) => [x.id, x.sub, x.keyId, x.period, x.characters, x.audioSeconds]),
        [
          ['q_a', 'ann', null, 'day', 200, 60],
          ['q_b', 'ann', null, 'month', 100, null],
          ['q_c', null, 'key_1', 'day', null, 30],
          ['q_d', null, null, 'month', 1, null],
        ],
      )
      assert.ok((await moved(s, async () => assert.equal(await s.deleteQuota('q_b'), true))) > 0)
      assert.equal(
        await moved(s, async () => assert.equal(await s.deleteQuota('q_b'), false)),
        0,
        'deleting nothing leaves the version alone',
      )
      assert.deepEqual(
        (await s.listQuotas()).map((x) => x.id),
        ['q_a', 'q_c', 'q_d'],
      )
      // Alert thresholds round-trip, and a put without them goes back to the default (null).
      await s.putQuota({ ...q, alertAt: [0.5, 0.9, 1] })
      assert.deepEqual((await s.listQuotas()).find((x) => x.id === 'q_a')?.alertAt, [0.5, 0.9, 1])
      await s.putQuota({ ...q, alertAt: null })
      assert.equal((await s.listQuotas()).find((x) => x.id === 'q_a')?.alertAt, null)
    }))
}
