/**
 * The signing keys contract (src/store/signing-keys.ts).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { moved, webhook, type WithStore } from './helpers.ts'

export function signingKeysContract(withStore: WithStore): void {
  test('signing keys: added and retired move the version; the snapshot has them', () =>
    withStore(async (s) => {
      assert.ok(
        (await moved(s, () => s.addSigningKey({ kid: 'sig1', privatePem: 'PEM1', createdAt: 1, retiredAt: null }))) > 0,
      )
      assert.ok((await moved(s, () => s.retireSigningKey('sig1', 10))) > 0)
      assert.equal(await moved(s, () => s.retireSigningKey('sig1', 20)), 0, 'retiring twice changes nothing')
      const snap = await s.snapshot()
      assert.deepEqual(snap.signingKeys, [{ kid: 'sig1', privatePem: 'PEM1', createdAt: 1, retiredAt: 10 }])
      assert.equal(snap.version, await s.version())
    }))

  test('a rotation with a trail stores its event, made from the kids it retired, with the change', () =>
    withStore(async (s) => {
      await s.createWebhook(webhook('wh_s', ['signing_key.rotated']))
      await s.addSigningKey({ kid: 'sig_a', privatePem: 'P', createdAt: 1, retiredAt: null })
      const event = (retired: string[]) => ({
        id: 'msg_rot',
        type: 'signing_key.rotated',
        body: JSON.stringify({ kid: 'sig_b', retired }),
        createdAt: 50,
        dedupeKey: null,
      })
      const retired = await s.replaceSigningKey(
        { kid: 'sig_b', privatePem: 'P', createdAt: 50, retiredAt: null },
        { event },
      )
      assert.deepEqual(retired, ['sig_a'])
      const [delivery] = await s.claimWebhookDeliveries(50, 1000, 10)
      assert.deepEqual(
        [delivery?.eventId, delivery?.body],
        ['msg_rot', JSON.stringify({ kid: 'sig_b', retired: ['sig_a'] })],
      )
    }))
}
