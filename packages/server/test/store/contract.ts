/**
 * The store contract (src/store/types.ts), as tests any store implementation must pass: SQLite
 * (sqlite.test.ts) and PostgreSQL (postgres.test.ts). Each implementation's test file calls
 * `storeContract` with a way to open a fresh, empty store.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Store } from '../../src/store/types.ts'
import { auditContract } from './contract-audit.ts'

const HOUR = 3_600_000

export function storeContract(name: string, open: () => Promise<Store>): void {
  describe(`store contract: ${name}`, () => {
    async function withStore(fn: (s: Store) => Promise<void>): Promise<void> {
      const store = await open()
      try {
        await fn(store)
      } finally {
        await store.close()
      }
    }

    /** Runs `change` and reports how far it moved the version. */
    async function moved(store: Store, change: () => Promise<unknown>): Promise<number> {
      const before = await store.version()
      await change()
      return (await store.version()) - before
    }

    const key = (id: string, hash = `hash-${id}`) => ({
      id,
      name: `key ${id}`,
      hash,
      prefix: 'sk_vx_ab',
      createdAt: 1000,
      scopes: ['mint' as const, 'speech' as const],
      policy: null,
      expiresAt: null,
    })

    test('API keys: created, found by hash, listed, revoked once; each change moves the version', () =>
      withStore(async (s) => {
        assert.ok((await moved(s, () => s.createApiKey(key('k1')))) > 0)
        assert.equal((await s.findApiKeyByHash('hash-k1'))?.id, 'k1')
        assert.equal(await s.findApiKeyByHash('nope'), undefined)
        assert.deepEqual(
          (await s.listApiKeys()).map((k) => k.id),
          ['k1'],
        )
        assert.ok((await moved(s, () => s.revokeApiKey('k1', 2000))) > 0)
        assert.equal(await s.revokeApiKey('k1', 3000), false, 'already revoked')
        assert.equal(await moved(s, () => s.revokeApiKey('k1', 3000)), 0, 'a revoke that changes nothing')
        assert.equal(await s.revokeApiKey('missing', 3000), false)
        assert.equal((await s.findApiKeyByHash('hash-k1'))?.revokedAt, 2000)
        assert.deepEqual((await s.snapshot()).revokedKeyIds, ['k1'])
      }))

    test('API keys keep their scopes and policy', () =>
      withStore(async (s) => {
        const policy = { allowed_grants: ['tts' as const], max_expires_in: 600, max_limits: { characters: 1000 } }
        await s.createApiKey({ ...key('app'), scopes: ['mint'], policy })
        await s.createApiKey({ ...key('ops'), scopes: ['admin'] })
        const found = await s.findApiKeyByHash('hash-app')
        assert.deepEqual([found?.scopes, found?.policy], [['mint'], policy])
        assert.deepEqual(
          (await s.listApiKeys()).map((k) => [k.id, k.scopes, k.policy]),
          [
            ['app', ['mint'], policy],
            ['ops', ['admin'], null],
          ],
        )
      }))

    test('API keys: changed and removed by id; the last live admin key is kept; each change moves the version', () =>
      withStore(async (s) => {
        await s.createApiKey({ ...key('ops'), scopes: ['admin'] })
        await s.createApiKey({ ...key('app'), expiresAt: 9000 })
        assert.equal((await s.getApiKey('app'))?.expiresAt, 9000)
        assert.equal(await s.getApiKey('missing'), undefined)
        assert.equal(await s.removeApiKey('ops', 2000), 'last_admin_key')
        assert.equal(await s.updateApiKey('ops', { scopes: ['read'] }), 'last_admin_key')
        assert.equal(await moved(s, () => s.updateApiKey('ops', { scopes: ['mint'] })), 0, 'a refused change')
        assert.ok(
          (await moved(s, () => s.updateApiKey('app', { name: 'renamed', scopes: ['admin'], expiresAt: null }))) > 0,
        )
        assert.deepEqual([(await s.getApiKey('app'))?.name, (await s.getApiKey('app'))?.expiresAt], ['renamed', null])
        assert.ok((await moved(s, () => s.removeApiKey('ops', 2000))) > 0, 'another admin remains')
        assert.equal((await s.getApiKey('ops'))?.revokedAt, 2000)
        assert.equal(await s.removeApiKey('ops', 3000), 'not_found')
        assert.equal(await s.updateApiKey('ops', { name: 'x' }), 'not_found')
        assert.equal(await s.removeApiKey('app', 3000), 'last_admin_key')
      }))

    test('two removals racing for the last two admin keys: exactly one passes', () =>
      withStore(async (s) => {
        await s.createApiKey({ ...key('a1'), scopes: ['admin'] })
        await s.createApiKey({ ...key('a2'), scopes: ['admin'] })
        const results = await Promise.all([s.removeApiKey('a1', 5), s.removeApiKey('a2', 5)])
        assert.deepEqual(results.sort(), ['changed', 'last_admin_key'])
      }))

    test('a key hash is unique', () =>
      withStore(async (s) => {
        await s.createApiKey(key('a', 'same'))
        await assert.rejects(s.createApiKey(key('b', 'same')))
      }))

    test('usage writes (last used) never move the version', () =>
      withStore(async (s) => {
        await s.createApiKey(key('k'))
        assert.equal(await moved(s, () => s.touchApiKey('k', 5000)), 0)
        assert.equal((await s.findApiKeyByHash('hash-k'))?.lastUsedAt, 5000)
      }))

    test('signing keys: added and retired move the version; the snapshot has them', () =>
      withStore(async (s) => {
        assert.ok(
          (await moved(s, () => s.addSigningKey({ kid: 'sig1', privatePem: 'PEM1', createdAt: 1, retiredAt: null }))) >
            0,
        )
        assert.ok((await moved(s, () => s.retireSigningKey('sig1', 10))) > 0)
        assert.equal(await moved(s, () => s.retireSigningKey('sig1', 20)), 0, 'retiring twice changes nothing')
        const snap = await s.snapshot()
        assert.deepEqual(snap.signingKeys, [{ kid: 'sig1', privatePem: 'PEM1', createdAt: 1, retiredAt: 10 }])
        assert.equal(snap.version, await s.version())
      }))

    test('revocations of both kinds round-trip and move the version', () =>
      withStore(async (s) => {
        assert.ok((await moved(s, () => s.addRevocation({ kind: 'jti', jti: 'tok_1', expiresAt: 9 * HOUR }))) > 0)
        assert.ok(
          (await moved(s, () =>
            s.addRevocation({ kind: 'sub', sub: 'alice', issuedBefore: 77, expiresAt: 9 * HOUR }),
          )) > 0,
        )
        assert.deepEqual((await s.snapshot()).revocations, [
          { kind: 'jti', jti: 'tok_1', expiresAt: 9 * HOUR },
          { kind: 'sub', sub: 'alice', issuedBefore: 77, expiresAt: 9 * HOUR },
        ])
      }))

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

    test('characters: reserved within a budget, refused past it by exactly the budget, refunded never below zero', () =>
      withStore(async (s) => {
        assert.equal(await s.usedCharacters('tok_new'), 0)
        assert.equal(
          await moved(s, () => s.reserveCharacters('tok_a', 60, 100, 9 * HOUR)),
          0,
          'usage never moves the version',
        )
        assert.deepEqual(await s.reserveCharacters('tok_a', 40, 100, 9 * HOUR), { granted: true, used: 100 })
        assert.deepEqual(await s.reserveCharacters('tok_a', 1, 100, 9 * HOUR), { granted: false, used: 100 })
        assert.deepEqual(await s.reserveCharacters('tok_b', 101, 100, 9 * HOUR), { granted: false, used: 0 })
        assert.equal(await s.usedCharacters('tok_b'), 0, 'a refused first reservation leaves nothing behind')
        assert.deepEqual(await s.reserveCharacters('tok_c', 5000, undefined, 9 * HOUR), { granted: true, used: 5000 })
        await s.refundCharacters('tok_a', 30)
        assert.equal(await s.usedCharacters('tok_a'), 70)
        await s.refundCharacters('tok_a', 500)
        assert.equal(await s.usedCharacters('tok_a'), 0)
        await s.refundCharacters('tok_never_seen', 5)
        assert.equal(await s.usedCharacters('tok_never_seen'), 0)
      }))

    test('characters: 50 reservations of 10 at once against a budget of 100 grant exactly 10', () =>
      withStore(async (s) => {
        const results = await Promise.all(
          Array.from({ length: 50 }, () => s.reserveCharacters('tok_race', 10, 100, 9 * HOUR)),
        )
        assert.equal(results.filter((r) => r.granted).length, 10)
        assert.deepEqual(
          results
            .filter((r) => r.granted)
            .map((r) => r.used)
            .sort((a, b) => a - b),
          [10, 20, 30, 40, 50, 60, 70, 80, 90, 100],
        )
        assert.equal(await s.usedCharacters('tok_race'), 100)
      }))

    test('prune drops the usage of tokens expired before the cutoff, without moving the version', () =>
      withStore(async (s) => {
        await s.reserveCharacters('tok_dead', 10, undefined, 1 * HOUR)
        await s.reserveCharacters('tok_live', 10, undefined, 5 * HOUR)
        assert.equal(await moved(s, () => s.prune(3 * HOUR)), 0)
        assert.equal(await s.usedCharacters('tok_dead'), 0)
        assert.equal(await s.usedCharacters('tok_live'), 10)
      }))

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

    test('audio milliseconds: racing reservations never pass the budget; refunds and usage', () =>
      withStore(async (s) => {
        const got = await Promise.all(Array.from({ length: 30 }, () => s.reserveAudio('tok_a', 1000, 10_000, 9 * HOUR)))
        assert.equal(got.filter((r) => r.granted).length, 10)
        assert.equal(await s.usedAudio('tok_a'), 10_000)
        await s.refundAudio('tok_a', 2500)
        assert.equal(await s.usedAudio('tok_a'), 7500)
        assert.equal((await s.reserveAudio('tok_a', 2500, 10_000, 9 * HOUR)).granted, true)
        assert.equal((await s.reserveAudio('tok_a', 1, 10_000, 9 * HOUR)).granted, false)
        assert.equal(
          await moved(s, () => s.reserveAudio('tok_b', 5, undefined, 9 * HOUR)),
          0,
          'usage never moves the version',
        )
        assert.equal(await s.usedAudio('tok_never'), 0)
      }))

    test('usage ledger: settling adds to one row per key, sub and day, refunds in the same write, and filters', () =>
      withStore(async (s) => {
        await s.reserveCharacters('tok_l', 100, undefined, 9 * HOUR)
        const base = { keyId: 'key_1', audioMsProduced: 0, audioMsTranscribed: 0, streams: 1 }
        assert.equal(
          await moved(s, () =>
            s.settleUsage(
              { ...base, day: '2026-11-28', sub: 'ann', characters: 60, audioMsProduced: 1500 },
              { keys: ['tok_l'], characters: 40, audioMs: 0 },
            ),
          ),
          0,
        )
        assert.equal(await s.usedCharacters('tok_l'), 60, 'the refund landed with the ledger row')
        await s.settleUsage({ ...base, day: '2026-11-28', sub: 'ann', characters: 5 })
        await s.settleUsage({ ...base, day: '2026-11-29', sub: null, characters: 7, audioMsTranscribed: 2000 })
        await s.settleUsage({ ...base, day: '2026-11-29', keyId: 'key_2', sub: 'bob', characters: 9 })
        const all = await s.queryUsage({ from: '2026-11-01', to: '2026-11-30' })
        assert.deepEqual(
          all.map((r) => [r.day, r.keyId, r.sub, r.characters, r.streams]),
          [
            ['2026-11-28', 'key_1', 'ann', 65, 2],
            ['2026-11-29', 'key_1', null, 7, 1],
            ['2026-11-29', 'key_2', 'bob', 9, 1],
          ],
        )
        assert.equal(all[0]!.audioMsProduced, 1500)
        assert.equal(all[1]!.audioMsTranscribed, 2000)
        await s.settleUsage({
          ...base,
          keyId: 'key_vc',
          day: '2026-10-27',
          sub: 'vc',
          characters: 0,
          audioMsVoiceChanged: 3500,
        })
        assert.deepEqual(
          (await s.queryUsage({ from: '2026-10-27', to: '2026-10-27' })).map((r) => [
            r.sub,
            r.audioMsVoiceChanged,
            r.streams,
          ]),
          [['vc', 3500, 1]],
        )
        assert.deepEqual(
          (await s.queryUsage({ from: '2026-11-29', to: '2026-11-29' })).length,
          2,
          'dates are inclusive',
        )
        assert.deepEqual(
          (await s.queryUsage({ from: '2026-11-01', to: '2026-11-30', sub: 'bob' })).map((r) => r.keyId),
          ['key_2'],
        )
        assert.deepEqual(
          (await s.queryUsage({ from: '2026-11-01', to: '2026-11-30', sub: null })).map((r) => r.characters),
          [7],
          'null: no sub',
        )
        assert.deepEqual((await s.queryUsage({ from: '2026-11-01', to: '2026-11-30', keyId: 'key_1' })).length, 2)
      }))

    test('settling refunds every counter a stream charged (its token and its quotas) in the same write', () =>
      withStore(async (s) => {
        await s.reserveCharacters('tok_q', 50, undefined, 9 * HOUR)
        await s.reserveCharacters('quota:q_1:2026-11-29', 50, 100, 9 * HOUR)
        await s.reserveAudio('quota:q_1:2026-11-29', 9000, undefined, 9 * HOUR)
        await s.settleUsage(
          {
            day: '2026-11-29',
            keyId: 'key_1',
            sub: null,
            characters: 30,
            audioMsProduced: 0,
            audioMsTranscribed: 0,
            streams: 1,
          },
          { keys: ['tok_q', 'quota:q_1:2026-11-29'], characters: 20, audioMs: 4000 },
        )
        assert.equal(await s.usedCharacters('tok_q'), 30)
        assert.equal(await s.usedCharacters('quota:q_1:2026-11-29'), 30)
        assert.equal(await s.usedAudio('quota:q_1:2026-11-29'), 5000)
      }))

    test('settlements made together all land: rows of one ledger line add up, refunds to one counter add up', () =>
      withStore(async (s) => {
        await s.reserveCharacters('tok_m', 100, undefined, 9 * HOUR)
        const d = {
          day: '2026-11-29',
          keyId: 'key_m',
          sub: 'mo',
          characters: 10,
          audioMsProduced: 100,
          audioMsTranscribed: 0,
          streams: 1,
        }
        await Promise.all([
          s.settleUsage(d, { keys: ['tok_m'], characters: 5, audioMs: 0 }),
          s.settleUsage(
            { ...d, characters: 20, charactersFallback: 20, charactersCached: 0 },
            { keys: ['tok_m'], characters: 7, audioMs: 0 },
          ),
          s.settleUsage({ ...d, sub: null, charactersCached: 10 }),
        ])
        const rows = await s.queryUsage({ from: '2026-11-29', to: '2026-11-29', keyId: 'key_m' })
        assert.deepEqual(
          rows.map((r) => [r.sub, r.charactersFallback, r.charactersCached]),
          [
            [null, 0, 10],
            ['mo', 20, 0],
          ],
          'the fallback and cached parts of the characters add up as the characters do',
        )
        assert.deepEqual(
          rows.map((r) => [r.sub, r.characters, r.audioMsProduced, r.streams]),
          [
            [null, 10, 100, 1],
            ['mo', 30, 200, 2],
          ],
        )
        assert.equal(await s.usedCharacters('tok_m'), 88)
      }))

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

    const webhook = (id: string, events: string[], createdAt = 1) => ({
      id,
      url: `https://hooks.example.com/${id}?token=t`,
      events,
      secret: `whsec_${Buffer.from(id.padEnd(24, '.')).toString('base64')}`,
      createdAt,
    })
    const event = (id: string, type: string, createdAt: number, dedupeKey: string | null = null) => ({
      id,
      type,
      body: JSON.stringify({ type, timestamp: new Date(createdAt).toISOString(), data: { n: id } }),
      createdAt,
      dedupeKey,
    })

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
        assert.equal(
          await s.enqueueWebhookEvent(event('msg_x', 'quota.threshold', 1000, 'quota.threshold|q|p|1')),
          true,
        )
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

    test('usage ledger: refusals are counted by reason, beside the figures or alone', () =>
      withStore(async (s) => {
        const base = { day: '2026-11-29', keyId: 'key_1', audioMsProduced: 0, audioMsTranscribed: 0 }
        await s.settleUsage({ ...base, sub: 'ann', characters: 3, streams: 1 })
        for (const reason of ['quota_exceeded', 'quota_exceeded', 'voice_not_allowed']) {
          assert.equal(
            await moved(s, () => s.recordRefusal({ day: '2026-11-29', keyId: 'key_1', sub: 'ann', reason })),
            0,
          )
        }
        await s.recordRefusal({ day: '2026-11-29', keyId: 'key_1', sub: null, reason: 'rate_limited' })
        const rows = await s.queryUsage({ from: '2026-11-29', to: '2026-11-29' })
        assert.deepEqual(
          rows.map((r) => [r.sub, r.characters, r.streams, r.refused]),
          [
            [null, 0, 0, { rate_limited: 1 }],
            ['ann', 3, 1, { quota_exceeded: 2, voice_not_allowed: 1 }],
          ],
        )
      }))

    auditContract(withStore)
    test('console sign-in codes: used once, only before they expire; concurrent takes: one wins', () =>
      withStore(async (s) => {
        await s.addConsoleLoginCode('code-a', 5000)
        await s.addConsoleLoginCode('code-b', 5000)
        await s.addConsoleLoginCode('code-c', 5000)
        assert.equal(await s.takeConsoleLoginCode('code-a', 4999), true)
        assert.equal(await s.takeConsoleLoginCode('code-a', 4999), false, 'used already')
        assert.equal(await s.takeConsoleLoginCode('code-b', 5000), false, 'expired at 5000')
        assert.equal(await s.takeConsoleLoginCode('code-b', 1), false, 'an expired code is gone once tried')
        assert.equal(await s.takeConsoleLoginCode('nope', 1), false)
        const racing = await Promise.all([1, 2, 3, 4].map(() => s.takeConsoleLoginCode('code-c', 1)))
        assert.deepEqual(racing.filter(Boolean).length, 1)
        const before = await s.version()
        await s.addConsoleLoginCode('code-d', 100)
        await s.pruneConsoleSessions(100, 0)
        assert.equal(await s.takeConsoleLoginCode('code-d', 1), false, 'pruned at its expiry')
        assert.equal(await s.version(), before, 'console codes never move the version')
      }))

    test('console sessions: created, read, touched forward only, ended once, pruned when expired or idle', () =>
      withStore(async (s) => {
        const session = (idHash: string, keyId: string | null = null) => ({
          idHash,
          keyId,
          scope: 'admin' as const,
          createdAt: 1000,
          lastSeenAt: 1000,
          expiresAt: 10_000,
        })
        await s.createConsoleSession(session('s1'))
        await s.createConsoleSession({ ...session('s2', 'key_1'), scope: 'read' })
        await s.createConsoleSession(session('s3'))
        assert.deepEqual(await s.getConsoleSession('s1'), session('s1'))
        assert.deepEqual(await s.getConsoleSession('s2'), { ...session('s2', 'key_1'), scope: 'read' })
        assert.equal(await s.getConsoleSession('none'), undefined)
        await s.touchConsoleSession('s1', 3000)
        await s.touchConsoleSession('s1', 2000)
        assert.equal((await s.getConsoleSession('s1'))?.lastSeenAt, 3000, 'never moves back')
        assert.equal(await s.endConsoleSession('s1'), true)
        assert.equal(await s.endConsoleSession('s1'), false)
        assert.equal(await s.getConsoleSession('s1'), undefined)
        await s.touchConsoleSession('s3', 5000)
        // s2 idle since 1000 (before 2000); s3 seen at 5000 and not expired at 9999.
        await s.pruneConsoleSessions(9999, 2000)
        assert.equal(await s.getConsoleSession('s2'), undefined)
        assert.equal((await s.getConsoleSession('s3'))?.lastSeenAt, 5000)
        await s.pruneConsoleSessions(10_000, 0)
        assert.equal(await s.getConsoleSession('s3'), undefined, 'expired at 10000')
      }))
  })
}
