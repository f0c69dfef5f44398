/**
 * The webhooks contract (src/store/webhooks.ts): subscriptions and the outbox.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { event, moved, webhook, type WithStore } from './helpers.ts'

export function webhooksContract(withStore: WithStore): void {
  test('webhooks: created, listed, read with their secret, given a new secret, removed; never move the version', () =>
    withStore(async (s) => {
      assert.equal(
        await moved(s, () => s.createWebhook(webhook('wh_a', ['quota.threshold']))),
        0,
        'no instance caches webhooks',
      )
      await s.createWebhook(webhook('wh_b', ['api_key.created', 'quota.threshold'], 2))
      assert.deepEqual(await s.listWebhooks(), [
        webhook('wh_a', ['quota.threshold']),
        webhook('wh_b', ['api_key.created', 'quota.threshold'], 2),
      ])
      assert.deepEqual(await s.getWebhook('wh_a'), webhook('wh_a', ['quota.threshold']))
      assert.equal(await s.getWebhook('nope'), undefined)
      assert.equal(await s.setWebhookSecret('wh_a', 'whsec_bmV3'), true)
      assert.equal((await s.getWebhook('wh_a'))?.secret, 'whsec_bmV3')
      assert.equal(await s.setWebhookSecret('nope', 'whsec_bmV3'), false)
      assert.equal(await s.removeWebhook('wh_a'), true)
      assert.equal(await s.removeWebhook('wh_a'), false)
      assert.deepEqual(
        (await s.listWebhooks()).map((w) => w.id),
        ['wh_b'],
      )
    }))

  test('outbox: an event gets a delivery per subscribed webhook (or only the one named), due at once', () =>
    withStore(async (s) => {
      await s.createWebhook(webhook('wh_q', ['quota.threshold']))
      await s.createWebhook(webhook('wh_k', ['api_key.created']))
      assert.equal(await s.enqueueWebhookEvent(event('msg_1', 'quota.threshold', 1000)), true)
      assert.equal(await s.enqueueWebhookEvent(event('msg_2', 'webhook.test', 1001), 'wh_k'), true)
      assert.equal(await s.enqueueWebhookEvent(event('msg_3', 'signing_key.rotated', 1002)), true, 'stored, for none')
      const claimed = await s.claimWebhookDeliveries(1002, 30_000, 10)
      assert.deepEqual(
        claimed.map((d) => [d.webhookId, d.eventId, d.type, d.attempt, d.eventCreatedAt]),
        [
          ['wh_q', 'msg_1', 'quota.threshold', 0, 1000],
          ['wh_k', 'msg_2', 'webhook.test', 0, 1001],
        ],
      )
      assert.equal(claimed[0]!.body, event('msg_1', 'quota.threshold', 1000).body)
      assert.deepEqual([claimed[0]!.url, claimed[0]!.secret], [webhook('wh_q', []).url, webhook('wh_q', []).secret])
      assert.deepEqual(await s.claimWebhookDeliveries(999, 30_000, 10), [], 'not due before it was made')
    }))

  test('outbox: 20 enqueues of one dedupe key at once store exactly one event', () =>
    withStore(async (s) => {
      await s.createWebhook(webhook('wh_q', ['quota.threshold']))
      const stored = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          s.enqueueWebhookEvent(event(`msg_${i}`, 'quota.threshold', 1000, 'quota.threshold|q|p|0.8')),
        ),
      )
      assert.equal(stored.filter(Boolean).length, 1)
      assert.equal((await s.listWebhookDeliveries('wh_q', 100)).length, 1)
      assert.equal(await s.enqueueWebhookEvent(event('msg_x', 'quota.threshold', 1000, 'quota.threshold|q|p|1')), true)
    }))

  test('outbox: a claimed delivery is leased: claims at once take disjoint ones; the lease ends with the attempt or its time', () =>
    withStore(async (s) => {
      await s.createWebhook(webhook('wh_q', ['quota.threshold']))
      for (let i = 0; i < 10; i++) await s.enqueueWebhookEvent(event(`msg_${i}`, 'quota.threshold', 1000 + i))
      const claims = await Promise.all(Array.from({ length: 5 }, () => s.claimWebhookDeliveries(2000, 30_000, 3)))
      const ids = claims.flat().map((d) => d.eventId)
      assert.equal(ids.length, 10)
      assert.equal(new Set(ids).size, 10, 'no delivery claimed twice')
      assert.deepEqual(await s.claimWebhookDeliveries(31_999, 30_000, 10), [], 'leased until 32 000')
      // One attempt fails and is due again at 40 000; one succeeds; the others' lease runs out.
      await s.recordWebhookAttempt({
        webhookId: 'wh_q',
        eventId: 'msg_0',
        attempt: 1,
        statusCode: 500,
        error: 'HTTP 500',
        nextAttemptAt: 40_000,
        deliveredAt: null,
      })
      await s.recordWebhookAttempt({
        webhookId: 'wh_q',
        eventId: 'msg_1',
        attempt: 1,
        statusCode: 204,
        error: null,
        nextAttemptAt: null,
        deliveredAt: 2500,
      })
      const again = await s.claimWebhookDeliveries(32_000, 30_000, 20)
      assert.deepEqual(again.map((d) => d.eventId).sort(), ids.filter((i) => i !== 'msg_0' && i !== 'msg_1').sort())
      const retried = await s.claimWebhookDeliveries(40_000, 30_000, 20)
      assert.deepEqual(
        retried.map((d) => [d.eventId, d.attempt]),
        [['msg_0', 1]],
      )
      const listed = await s.listWebhookDeliveries('wh_q', 3)
      assert.deepEqual(
        listed.map((d) => d.eventId),
        ['msg_9', 'msg_8', 'msg_7'],
        'newest first, at most the limit',
      )
      const [one] = (await s.listWebhookDeliveries('wh_q', 100)).filter((d) => d.eventId === 'msg_1')
      assert.deepEqual(one, {
        webhookId: 'wh_q',
        eventId: 'msg_1',
        type: 'quota.threshold',
        attempt: 1,
        statusCode: 204,
        error: null,
        nextAttemptAt: null,
        deliveredAt: 2500,
        createdAt: 1001,
      })
    }))

  test('outbox: removing a webhook drops its deliveries; pruning drops events made before the cutoff', () =>
    withStore(async (s) => {
      await s.createWebhook(webhook('wh_a', ['quota.threshold']))
      await s.createWebhook(webhook('wh_b', ['quota.threshold']))
      await s.enqueueWebhookEvent(event('msg_old', 'quota.threshold', 1000, 'k-old'))
      await s.enqueueWebhookEvent(event('msg_new', 'quota.threshold', 5000))
      await s.removeWebhook('wh_a')
      assert.deepEqual(
        (await s.claimWebhookDeliveries(9000, 1000, 10)).map((d) => [d.webhookId, d.eventId]),
        [
          ['wh_b', 'msg_old'],
          ['wh_b', 'msg_new'],
        ],
      )
      await s.pruneWebhookEvents(5000)
      assert.deepEqual(
        (await s.listWebhookDeliveries('wh_b', 100)).map((d) => d.eventId),
        ['msg_new'],
      )
      assert.equal(
        await s.enqueueWebhookEvent(event('msg_again', 'quota.threshold', 6000, 'k-old')),
        true,
        'its key is free again',
      )
    }))
}
