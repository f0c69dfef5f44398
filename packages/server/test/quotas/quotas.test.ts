/**
 * Quotas per end-user (`sub`) and per API key, across tokens: set, changed, listed and removed over
 * HTTP (API key only) and from the CLI; enforced on every transport (bytes, SSE, WebSocket with
 * `continue`, STT uploads) through the same reservation path as token budgets, on every instance
 * sharing the store; 429 quota_exceeded with Retry-After until the period ends (UTC), on a
 * controlled clock.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createKey } from '../../src/keys/create-key.ts'
import { MAX_QUOTAS } from '../../src/quotas/schema.ts'
import { ManualClock } from '../helpers/clock.ts'
import { eventually } from '../helpers/controlled-speech.ts'
import { bearer, call, mint } from '../helpers/http.ts'
import { closeQuietly, openInbox, ttsBody, voiceIds } from '../helpers/security.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { silence, wav } from '../stt/helpers.ts'

const BIN = path.resolve(import.meta.dirname, '../../bin/voxgate.mjs')
/** One minute before midnight UTC, two days before the month ends. */
const NOW = Date.UTC(2026, 10, 29, 23, 59, 0)
const dataDir = mkdtempSync(path.join(tmpdir(), 'voxgate-quotas-'))
const clock = new ManualClock(NOW)
let t: TestServer
let voice: string

before(async () => {
  t = await startTestServer({ dataDir, storePollMs: 50 }, { clock })
  ;[voice] = (await voiceIds(t.url, t.apiKey, 1)) as [string]
})
after(async () => {
  await t.close()
  rmSync(dataDir, { recursive: true, force: true })
})

const asKey = (init: { method?: string; body?: unknown } = {}) => ({ ...init, headers: bearer(t.apiKey) })
const putQuota = (body: unknown) => call(t.url, '/quotas', { ...asKey({ method: 'PUT', body }) })
const forSub = (sub: string, grants: Record<string, boolean> = { tts: true }, limits?: unknown) =>
  mint(t.url, t.apiKey, { grants, expires_in: 600, sub, ...(limits !== undefined && { limits }) })
const speak = (credential: string, text: string, transport: 'bytes' | 'sse' = 'bytes') =>
  call(t.url, `/tts/${transport}`, { headers: bearer(credential), body: ttsBody(voice, text) })
const quotaOf = async (id: string) => (await call(t.url, `/quotas/${id}`, asKey())).json

describe('the quota API', () => {
  test('PUT creates (201) then changes the same sub/key/period (200, same id); GET lists with use and period end; DELETE removes', async () => {
    const created = await putQuota({ sub: 'api', period: 'day', characters: 100 })
    assert.equal(created.status, 201)
    assert.match(created.json.id, /^quota_/)
    assert.deepEqual(
      { ...created.json, id: undefined },
      {
        id: undefined,
        sub: 'api',
        key_id: null,
        period: 'day',
        characters: 100,
        audio_seconds: null,
        alert_at: [0.8, 1],
        created_at: new Date(NOW).toISOString(),
        period_ends: '2026-11-30T00:00:00.000Z',
        used: { characters: 0, audio_seconds: null },
      },
    )
    const changed = await putQuota({ sub: 'api', period: 'day', characters: 50, audio_seconds: 20 })
    assert.deepEqual(
      [changed.status, changed.json.id, changed.json.characters, changed.json.audio_seconds],
      [200, created.json.id, 50, 20],
    )
    const month = await putQuota({ sub: 'api', key_id: t.apiKeyId, period: 'month', audio_seconds: 60 })
    assert.deepEqual(
      [month.status, month.json.period_ends, month.json.used],
      [201, '2026-12-01T00:00:00.000Z', { characters: null, audio_seconds: 0 }],
    )
    const list = await call(t.url, '/quotas', asKey())
    // Oldest first, then by id (the controlled clock gives both the same creation time).
    assert.deepEqual(
      list.json.data.filter((q: { sub: string }) => q.sub === 'api').map((q: { id: string }) => q.id),
      [created.json.id, month.json.id].sort(),
    )
    assert.equal((await call(t.url, `/quotas/${month.json.id}`, asKey({ method: 'DELETE' }))).status, 204)
    const gone = await call(t.url, `/quotas/${month.json.id}`, asKey({ method: 'DELETE' }))
    assert.deepEqual([gone.status, gone.json.error_code], [404, 'not_found'])
    assert.equal((await call(t.url, `/quotas/${month.json.id}`, asKey())).status, 404)
    assert.equal((await call(t.url, `/quotas/${created.json.id}`, asKey({ method: 'DELETE' }))).status, 204)
  })

  test('an access token cannot read or set quotas: 403 api_key_required', async () => {
    const token = await forSub('api')
    for (const [method, p] of [
      ['GET', '/quotas'],
      ['PUT', '/quotas'],
      ['DELETE', '/quotas/quota_x'],
    ] as const) {
      const res = await call(t.url, p, {
        method,
        headers: bearer(token),
        ...(method === 'PUT' && { body: { period: 'day', characters: 1 } }),
      })
      assert.deepEqual([res.status, res.json.error_code], [403, 'api_key_required'], `${method} ${p}`)
    }
  })

  test('bad bodies are 400 invalid_request naming the field; caps are checked one past their edge', async () => {
    const cases: [unknown, string][] = [
      [{ characters: 5 }, 'period'],
      [{ period: 'week', characters: 5 }, 'period'],
      [{ period: 'day' }, 'characters: set characters, audio_seconds or both'],
      [{ period: 'day', characters: -1 }, 'characters'],
      [{ period: 'day', characters: 1.5 }, 'characters'],
      [{ period: 'day', characters: 1_000_000_000_001 }, 'characters'],
      [{ period: 'day', audio_seconds: 1_000_000_001 }, 'audio_seconds'],
      [{ period: 'day', characters: 5, sub: '' }, 'sub'],
      [{ period: 'day', characters: 5, sub: 'x'.repeat(257) }, 'sub'],
      [{ period: 'day', characters: 5, extra: 1 }, 'Unrecognized key'],
      [{ period: 'day', characters: 5, key_id: 'key_nobody' }, 'key_id: no API key has this id'],
      [{ period: 'day', characters: 5, alert_at: [0] }, 'alert_at'],
      [{ period: 'day', characters: 5, alert_at: [1.01] }, 'alert_at'],
      [{ period: 'day', characters: 5, alert_at: [] }, 'alert_at'],
      [{ period: 'day', characters: 5, alert_at: Array.from({ length: 11 }, (_, i) => (i + 1) / 11) }, 'alert_at'],
    ]
    for (const [body, field] of cases) {
      const res = await putQuota(body)
      assert.deepEqual([res.status, res.json.error_code], [400, 'invalid_request'], JSON.stringify(body))
      assert.ok(res.json.message.includes(field), `${JSON.stringify(body)}: ${res.json.message}`)
    }
    assert.equal(
      (await putQuota({ sub: 'edge', period: 'day', characters: 1_000_000_000_000, audio_seconds: 1_000_000_000 }))
        .status,
      201,
    )
    const ten = Array.from({ length: 10 }, (_, i) => (i + 1) / 10)
    const most = await putQuota({ sub: 'edge', period: 'day', characters: 5, alert_at: ten })
    assert.deepEqual([most.status, most.json.alert_at], [200, ten])
  })
})

describe('enforcement', () => {
  test('a sub quota holds across tokens and transports (bytes, SSE, WebSocket continue); 429 with Retry-After until UTC midnight', async () => {
    const quota = (await putQuota({ sub: 'ann', period: 'day', characters: 30 })).json
    assert.equal((await speak(await forSub('ann'), 'Hello there.')).status, 200) // 12
    assert.equal((await speak(await forSub('ann'), 'One two three.', 'sse')).status, 200) // 14: 26
    const inbox = await openInbox(t.url, { query: `?access_token=${await forSub('ann')}` })
    inbox.send({ ...ttsBody(voice, 'Hi '), context_id: 'c', continue: true })
    inbox.send({ ...ttsBody(voice, 'you all.'), context_id: 'c' }) // 11: would be 37
    const err = await inbox.terminal('c')
    assert.deepEqual([err.type, err.error_code], ['error', 'quota_exceeded'])
    closeQuietly(inbox.ws)
    const token = await forSub('ann')
    const refused = await speak(token, 'Four.') // 5: would be 31
    assert.deepEqual(
      [refused.status, refused.json.error_code, refused.headers.get('retry-after')],
      [429, 'quota_exceeded', '60'],
    )
    assert.match(
      refused.json.message,
      /end-user's quota of 30 characters per day would be exceeded \(26 used\); it renews at 2026-11-30T00:00:00\.000Z/,
    )
    assert.equal((await speak(token, 'Hi.')).status, 200) // 3: 29, within
    assert.equal((await speak(await forSub('ben'), 'Hello there.')).status, 200, 'another end-user is not capped')
    assert.equal((await quotaOf(quota.id)).used.characters, 29)
    await eventually(
      async () => (await call(t.url, '/usage?sub=ann', asKey())).json.totals.refused.quota_exceeded === 2,
      'refusals in the ledger',
    )
  })

  test('the next period starts from zero', async () => {
    const quota = (await putQuota({ sub: 'nia', period: 'day', characters: 12 })).json
    assert.equal((await speak(await forSub('nia'), 'Hello there.')).status, 200)
    assert.equal((await speak(await forSub('nia'), 'A.')).status, 429)
    clock.set(NOW + 60_000) // midnight
    try {
      assert.equal((await speak(await forSub('nia'), 'Hello there.')).status, 200)
      assert.deepEqual(
        [(await quotaOf(quota.id)).used.characters, (await quotaOf(quota.id)).period_ends],
        [12, '2026-12-01T00:00:00.000Z'],
      )
    } finally {
      clock.set(NOW)
    }
  })

  test('a key quota caps the API key itself and every token it minted; a month quota retries at the first of the next month', async () => {
    const other = await createKey(t.server.ctx.store, 'capped', NOW)
    await putQuota({ key_id: other.id, period: 'month', characters: 10 })
    assert.equal((await speak(other.key, 'Hello.')).status, 200) // 6
    const token = await mint(t.url, other.key, { grants: { tts: true }, expires_in: 600, sub: 'zed' })
    const refused = await speak(token, 'Hi you.') // 7: would be 13
    assert.deepEqual(
      [refused.status, refused.json.error_code, refused.headers.get('retry-after')],
      [429, 'quota_exceeded', String(86_400 + 60)],
    )
    assert.match(refused.json.message, /This API key's quota of 10 characters per month/)
    assert.equal((await speak(t.apiKey, 'Hi you.')).status, 200, 'other keys are not capped')
  })

  test('refused by the token budget, the quota is not charged; refused by the quota, the token budget is given back', async () => {
    const quota = (await putQuota({ sub: 'cy', period: 'day', characters: 20 })).json
    const small = await forSub('cy', { tts: true }, { characters: 5 })
    assert.equal((await speak(small, 'Hello there.')).json.error_code, 'quota_exceeded')
    assert.equal((await quotaOf(quota.id)).used.characters, 0)
    const big = await forSub('cy', { tts: true }, { characters: 100 })
    assert.equal((await speak(big, 'Hello there.')).status, 200) // 12
    assert.equal((await speak(big, 'Nine more.')).status, 429) // 10: would be 22
    const self = await call(t.url, '/access-token/self', { headers: bearer(big) })
    assert.equal(self.json.usage.characters, 12, 'the refused request holds nothing of the token budget')
    assert.equal((await quotaOf(quota.id)).used.characters, 12)
  })

  test('a quota set mid-period starts from what the ledger holds for the period', async () => {
    assert.equal((await speak(await forSub('dee'), 'Hello there.')).status, 200) // 12, before any quota
    await eventually(
      async () => (await call(t.url, '/usage?sub=dee', asKey())).json.totals.characters === 12,
      'settled',
    )
    const quota = (await putQuota({ sub: 'dee', period: 'day', characters: 20 })).json
    assert.equal(quota.used.characters, 12)
    assert.equal((await speak(await forSub('dee'), 'Nine more.')).status, 429)
  })

  test('audio_seconds caps transcription across tokens: an upload past it is refused whole, with Retry-After', async () => {
    const quota = (await putQuota({ sub: 'eli', period: 'day', audio_seconds: 2 })).json
    const upload = async (seconds: number) => {
      const form = new FormData()
      form.append('file', new Blob([new Uint8Array(wav(silence(seconds)))]), 'a.wav')
      form.append('model', 'ink-whisper')
      return fetch(`${t.url}/stt`, { method: 'POST', headers: bearer(await forSub('eli', { stt: true })), body: form })
    }
    assert.equal((await upload(1.5)).status, 200)
    const refused = await upload(1)
    assert.deepEqual(
      [
        refused.status,
        ((await refused.json()) as { error_code: string }).error_code,
        refused.headers.get('retry-after'),
      ],
      [429, 'quota_exceeded', '60'],
    )
    assert.deepEqual((await quotaOf(quota.id)).used, { characters: null, audio_seconds: 1.5 })
  })
})

describe('across instances and from the CLI', () => {
  test('another instance on the same store enforces a quota set on the first, and counts into the same period', async () => {
    const second = await startTestServer({ dataDir, storePollMs: 50 }, { clock })
    try {
      const quota = (await putQuota({ sub: 'fay', period: 'day', characters: 15 })).json
      const token = await forSub('fay')
      await eventually(
        async () => second.server.ctx.quotas.book.size === t.server.ctx.quotas.book.size,
        'the second instance reloaded its quotas',
      )
      assert.equal(
        (await call(second.url, '/tts/bytes', { headers: bearer(token), body: ttsBody(voice, 'Hello there.') })).status,
        200,
      ) // 12
      assert.equal((await speak(token, 'Four.')).status, 429) // on the first: would be 17
      assert.equal((await quotaOf(quota.id)).used.characters, 12)
    } finally {
      await second.close({ keepData: true })
    }
  })

  test('voxgate quotas set | list | remove work on the store a running server uses; bad input exits 2 naming the flag', async () => {
    const cli = (...args: string[]) =>
      spawnSync(process.execPath, [BIN, 'quotas', ...args, '--data', dataDir], { encoding: 'utf8' })
    const set = cli('set', '--sub', 'gus', '--period', 'day', '--characters', '5', '--json')
    assert.equal(set.status, 0, set.stderr)
    const quota = JSON.parse(set.stdout)
    assert.deepEqual([quota.sub, quota.period, quota.characters], ['gus', 'day', 5])
    await eventually(
      async () => (await speak(await forSub('gus'), 'Hello there.')).status === 429,
      "the server applied the CLI's quota",
    )
    const list = cli('list')
    assert.equal(list.status, 0)
    assert.match(list.stdout, new RegExp(`${quota.id}  sub gus  per day: 0/5 characters`))
    const bad = cli('set', '--period', 'day', '--characters', 'many')
    assert.deepEqual(
      [bad.status, bad.stderr.trim()],
      [2, 'voxgate: --characters must be a whole number (see voxgate --help)'],
    )
    const none = cli('set', '--period', 'fortnight', '--characters', '5')
    assert.equal(none.status, 2)
    assert.match(none.stderr, /--period/)
    assert.equal(cli('remove', quota.id).status, 0)
    assert.equal(cli('remove', quota.id).status, 1)
    await eventually(
      async () => (await speak(await forSub('gus'), 'Hello there.')).status === 200,
      'the removal reached the server',
    )
  })

  test(`at most ${MAX_QUOTAS} quotas: one more is refused, changing one still works`, async () => {
    const store = t.server.ctx.store
    const have = (await store.listQuotas()).length
    for (let i = have; i < MAX_QUOTAS; i++) {
      await store.putQuota({
        id: `quota_fill_${i}`,
        sub: `fill-${i}`,
        keyId: null,
        period: 'day',
        characters: 1,
        audioSeconds: null,
        createdAt: NOW,
      })
    }
    const refused = await putQuota({ sub: 'one-more', period: 'day', characters: 1 })
    assert.deepEqual([refused.status, refused.json.error_code], [400, 'invalid_request'])
    assert.match(refused.json.message, new RegExp(`at most ${MAX_QUOTAS} quotas`))
    assert.equal((await putQuota({ sub: `fill-${have}`, period: 'day', characters: 2 })).status, 200)
  })
})
