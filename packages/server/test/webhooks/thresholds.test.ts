/**
 * Which reservations reach a quota threshold (issue 22 item 4), on the real meter and store: the one
 * that takes the counter to or past it, with its usage after; none for a refused request; the audio
 * meter in seconds; a partial reservation shrunk by a later quota counting what it kept.
 */
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import pino from 'pino'
import type { Principal } from '../../src/auth/principal.ts'
import { QuotaBook } from '../../src/quotas/book.ts'
import { UsageMeter } from '../../src/quotas/meter.ts'
import type { ThresholdReached } from '../../src/quotas/thresholds.ts'
import { openStore } from '../../src/store/open.ts'
import type { QuotaRecord, Store } from '../../src/store/types.ts'
import { Outbox } from '../../src/webhooks/outbox.ts'
import { announceThreshold, thresholdData } from '../../src/quotas/quota-alerts.ts'
import { ManualClock } from '../helpers/clock.ts'

const folders: string[] = []
after(() => {
  for (const f of folders) rmSync(f, { recursive: true, force: true })
})

const clock = new ManualClock(Date.UTC(2026, 11, 6, 15))
const principal: Principal = { kind: 'api_key', keyId: 'key_a', scopes: ['speech'], policy: null }
const quota = (id: string, extra: Partial<QuotaRecord>): QuotaRecord => ({
  id,
  sub: null,
  keyId: 'key_a',
  period: 'day',
  characters: null,
  audioSeconds: null,
  alertAt: null,
  createdAt: 0,
  ...extra,
})

async function meterWith(meter: 'characters' | 'audio', quotas: QuotaRecord[]) {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'voxgate-thresholds-'))
  folders.push(dataDir)
  const store: Store = await openStore({ dataDir })
  const book = new QuotaBook()
  book.load(quotas)
  const m = new UsageMeter(store, book, clock, meter, pino({ level: 'silent' }))
  const reached: ThresholdReached[] = []
  m.onThreshold = async (r) => {
    reached.push(r)
  }
  return { m, reached, store }
}

test('characters: each threshold once, by the reservation that reaches it (≥); a refused one reaches none', async () => {
  const { m, reached, store } = await meterWith('characters', [
    quota('q_c', { characters: 100, alertAt: [0.5, 0.8, 1] }),
  ])
  await m.reserve(principal, 49, undefined)
  assert.equal(reached.length, 0)
  await m.reserve(principal, 1, undefined)
  assert.deepEqual(
    reached.map((r) => [r.threshold, r.used]),
    [[0.5, 50]],
    'exactly at the threshold',
  )
  await assert.rejects(m.reserve(principal, 51, undefined), /quota/)
  assert.equal(reached.length, 1, 'a refused request reaches nothing')
  await m.reserve(principal, 50, undefined)
  assert.deepEqual(
    reached.map((r) => [r.threshold, r.used]),
    [
      [0.5, 50],
      [0.8, 100],
      [1, 100],
    ],
    'one reservation past two thresholds reaches both',
  )
  assert.deepEqual(thresholdData(reached[1]!), {
    quota_id: 'q_c',
    sub: null,
    key_id: 'key_a',
    period: 'day',
    period_start: '2026-12-06T00:00:00.000Z',
    threshold: 0.8,
    used: 100,
    limit: 100,
    unit: 'characters',
  })
  await store.close()
})

test('a request refused by a later quota reaches no threshold of an earlier one', async () => {
  const { m, reached, store } = await meterWith('characters', [
    quota('q_big', { characters: 100 }),
    quota('q_small', { keyId: null, characters: 10 }),
  ])
  await assert.rejects(m.reserve(principal, 90, undefined), /quota/)
  assert.equal(reached.length, 0)
  await store.close()
})

test('audio, partial: a later quota with less room shrinks the amount; the earlier counts only what it kept; data in seconds', async () => {
  const { m, reached, store } = await meterWith('audio', [
    quota('q_wide', { audioSeconds: 35 }),
    quota('q_narrow', { keyId: null, audioSeconds: 10 }),
  ])
  // 30 s asked: the wide quota takes 30, the narrow one has 10: the amount becomes 10 everywhere.
  const { amount } = await m.reserve(principal, 30_000, undefined, true)
  assert.equal(amount, 10_000)
  assert.deepEqual(
    reached.map((r) => [r.charge.quota.id, r.threshold, r.used]),
    [
      ['q_narrow', 0.8, 10_000],
      ['q_narrow', 1, 10_000],
    ],
    'the wide quota kept 10 of its 35 s (not the 30 first taken): below 80 %',
  )
  assert.deepEqual(
    [thresholdData(reached[0]!).used, thresholdData(reached[0]!).limit, thresholdData(reached[0]!).unit],
    [10, 10, 'audio_seconds'],
  )
  await store.close()
})

test('a refund never un-fires, and reaching the same threshold again in the period fires nothing more', async () => {
  const { m, store } = await meterWith('characters', [quota('q_r', { characters: 100, alertAt: [0.5] })])
  await store.createWebhook({
    id: 'wh_r',
    url: 'https://hooks.example.com/r',
    events: ['quota.threshold'],
    secret: `whsec_${Buffer.alloc(32, 7).toString('base64')}`,
    createdAt: 0,
  })
  m.onThreshold = announceThreshold(new Outbox(store), () => clock.now())
  const { charge } = await m.reserve(principal, 60, undefined)
  await m.refund(charge, 30)
  assert.equal(await store.usedCharacters(charge[0]!), 30, 'back below 50 %')
  await m.reserve(principal, 40, undefined)
  const sent = await store.listWebhookDeliveries('wh_r', 100)
  assert.equal(sent.length, 1, 'one quota.threshold event for 0.5 in this period')
  await store.close()
})
