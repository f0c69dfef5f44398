/**
 * The usage contract (src/store/usage.ts): reservations against budgets, refunds, the ledger.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { HOUR, moved, type WithStore } from './helpers.ts'

export function usageContract(withStore: WithStore): void {
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
      assert.deepEqual((await s.queryUsage({ from: '2026-11-29', to: '2026-11-29' })).length, 2, 'dates are inclusive')
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
}
