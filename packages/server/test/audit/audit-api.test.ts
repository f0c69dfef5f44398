/**
 * The audit log over HTTP (issue 22 item 3): every change route writes its row (who, what, which
 * request, from where; never a secret or token), refused changes write none; `GET /audit` filters,
 * pages and bounds `limit`; retention prunes on the housekeeping timer, on a controlled clock.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { parseConfig } from '../../src/config.ts'
import { auditDraft } from '../../src/store/audit-types.ts'
import { openStore } from '../../src/store/open.ts'
import { bearer, call, mint, type ApiResponse } from '../helpers/http.ts'
import { ManualClock } from '../helpers/clock.ts'
import { eventually } from '../helpers/controlled-speech.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

/** After the real clock: the test key the helper creates at the real time is the oldest row. */
const START = Date.UTC(2027, 6, 10, 9)
const clock = new ManualClock(START)
let t: TestServer
before(async () => {
  t = await startTestServer({}, { clock })
})
after(() => t.close())

function assertError(res: ApiResponse, status: number, code: string, message?: RegExp): void {
  assert.equal(res.status, status, res.text)
  assert.equal(res.json.error_code, code, res.text)
  if (message) assert.match(res.json.message, message)
}
const admin = (p: string, init: { method?: string; body?: unknown } = {}) =>
  call(t.url, p, { ...init, headers: bearer(t.apiKey) })
const audit = async (query: string) => {
  const res = await admin(`/audit${query}`)
  assert.equal(res.status, 200, res.text)
  return res.json as { data: Row[]; next_cursor: string | null }
}
interface Row {
  id: string
  at: string
  action: string
  actor: { type: string; key_id?: string }
  target: { type: string; id: string }
  request_id: string
  ip?: string
  details: Record<string, unknown>
}
/** The newest row for a target. */
const latest = async (targetId: string) => (await audit(`?target_id=${encodeURIComponent(targetId)}&limit=1`)).data[0]

describe('every change route writes its row', () => {
  test('the /api-keys routes: created, updated, rotated, revoked; each with the acting key, request id and address', async () => {
    const created = await admin('/api-keys', { body: { name: 'app', scopes: ['mint'] } })
    const id = created.json.id
    assert.deepEqual(await latest(id), {
      id: (await latest(id))!.id,
      at: new Date(clock.now()).toISOString(),
      action: 'api_key.created',
      actor: { type: 'api_key', key_id: t.apiKeyId },
      target: { type: 'api_key', id },
      request_id: created.headers.get('x-request-id'),
      ip: '127.0.0.1',
      details: { name: 'app', scopes: ['mint'], policy: null, expires_at: null },
    })
    clock.advance(1000)
    await admin(`/api-keys/${id}`, { method: 'PATCH', body: { name: 'renamed' } })
    assert.deepEqual(
      [(await latest(id))!.action, (await latest(id))!.details],
      ['api_key.updated', { name: 'renamed' }],
    )
    clock.advance(1000)
    const rotated = await admin(`/api-keys/${id}/rotate`, { body: { grace_seconds: 60 } })
    assert.deepEqual(
      [(await latest(id))!.action, (await latest(id))!.details],
      ['api_key.rotated', { grace_seconds: 60, rotating_until: rotated.json.rotating_until }],
    )
    clock.advance(1000)
    await admin(`/api-keys/${id}`, { method: 'DELETE' })
    assert.deepEqual([(await latest(id))!.action, (await latest(id))!.details], ['api_key.revoked', {}])
    const all = await admin(`/audit?target_id=${id}`)
    assert.deepEqual(
      all.json.data.map((r: Row) => r.action),
      ['api_key.revoked', 'api_key.rotated', 'api_key.updated', 'api_key.created'],
    )
    for (const secret of [created.json.key, rotated.json.key]) assert.ok(!all.text.includes(secret), 'never a secret')
  })

  test('POST and DELETE /webhooks: webhook.created (its URL masked, never the secret) and webhook.removed; a 404 writes none', async () => {
    // A public address: the webhook is checked when added, and removed before any event could go to it.
    const added = await admin('/webhooks', {
      body: { url: 'https://93.184.215.14/hooks/T123?token=abc', events: ['api_key.expiring'] },
    })
    assert.equal(added.status, 201, added.text)
    const id = added.json.id
    assert.deepEqual(await latest(id), {
      id: (await latest(id))!.id,
      at: new Date(clock.now()).toISOString(),
      action: 'webhook.created',
      actor: { type: 'api_key', key_id: t.apiKeyId },
      target: { type: 'webhook', id },
      request_id: added.headers.get('x-request-id'),
      ip: '127.0.0.1',
      details: { url: 'https://93.184.215.14/***', events: ['api_key.expiring'] },
    })
    clock.advance(1000)
    const removed = await admin(`/webhooks/${id}`, { method: 'DELETE' })
    assert.equal(removed.status, 204)
    assertError(await admin(`/webhooks/${id}`, { method: 'DELETE' }), 404, 'not_found')
    const all = await admin(`/audit?target_id=${id}`)
    assert.deepEqual(
      all.json.data.map((r: Row) => [r.action, r.at, r.request_id, r.target]),
      [
        [
          'webhook.removed',
          new Date(clock.now()).toISOString(),
          removed.headers.get('x-request-id'),
          { type: 'webhook', id },
        ],
        [
          'webhook.created',
          new Date(clock.now() - 1000).toISOString(),
          added.headers.get('x-request-id'),
          { type: 'webhook', id },
        ],
      ],
    )
    assert.deepEqual(all.json.data[0].details, {})
    for (const hidden of [added.json.secret, 'T123', 'token=abc']) assert.ok(!all.text.includes(hidden), hidden)
    assert.deepEqual(
      (await audit('?action=webhook.removed')).data.map((r) => r.target.id),
      [id],
      'the refused second DELETE wrote nothing',
    )
  })

  test('refused changes write nothing: 404, 409 last_admin_key, 400', async () => {
    const before = (await audit('?limit=1000')).data.length
    assertError(await admin('/api-keys/key_nope', { method: 'DELETE' }), 404, 'not_found')
    assertError(await admin('/api-keys/key_nope/rotate', { method: 'POST' }), 404, 'not_found')
    assertError(await admin('/api-keys', { body: { name: '' } }), 400, 'invalid_request')
    const others = (await admin('/api-keys')).json.data.filter(
      (k: { id: string; scopes: string[] }) => k.id !== t.apiKeyId && k.scopes.includes('admin'),
    )
    assert.deepEqual(others, [], 'the test key is the only admin key')
    assertError(await admin(`/api-keys/${t.apiKeyId}`, { method: 'DELETE' }), 409, 'last_admin_key')
    assertError(await admin('/quotas/quota_nope', { method: 'DELETE' }), 404, 'not_found')
    assert.equal((await audit('?limit=1000')).data.length, before)
  })

  test('PUT and DELETE /quotas: quota.set (created, then changed, same quota id) and quota.removed', async () => {
    const put = await admin('/quotas', { method: 'PUT', body: { sub: 'ann', period: 'day', characters: 100 } })
    await admin('/quotas', { method: 'PUT', body: { sub: 'ann', period: 'day', characters: 200 } })
    await admin(`/quotas/${put.json.id}`, { method: 'DELETE' })
    const rows = (await audit(`?target_id=${put.json.id}`)).data
    assert.deepEqual(
      rows.map((r) => [r.action, r.target, r.details]),
      [
        ['quota.removed', { type: 'quota', id: put.json.id }, {}],
        [
          'quota.set',
          { type: 'quota', id: put.json.id },
          { sub: 'ann', key_id: null, period: 'day', characters: 200, audio_seconds: null, created: false },
        ],
        [
          'quota.set',
          { type: 'quota', id: put.json.id },
          { sub: 'ann', key_id: null, period: 'day', characters: 100, audio_seconds: null, created: true },
        ],
      ],
    )
  })

  test('POST /access-token/revoke: token.revoked names the jti (never the token), subject.revoked the sub', async () => {
    const token = await mint(t.url, t.apiKey, { expires_in: 600 })
    const jti = (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { jti: string }).jti
    assert.equal((await admin('/access-token/revoke', { body: { token } })).status, 200)
    assert.equal((await admin('/access-token/revoke', { body: { jti: 'tok_other' } })).status, 200)
    assert.equal(
      (await admin('/access-token/revoke', { body: { sub: 'bob', issued_before: 1_800_000_000 } })).status,
      200,
    )
    const rows = (await audit('?limit=3')).data
    assert.deepEqual(
      rows.map((r) => [r.action, r.target, r.details]),
      [
        ['subject.revoked', { type: 'subject', id: 'bob' }, { issued_before: 1_800_000_000 }],
        ['token.revoked', { type: 'token', id: 'tok_other' }, {}],
        ['token.revoked', { type: 'token', id: jti }, {}],
      ],
    )
    assert.ok(!JSON.stringify(rows).includes(token))
  })
})

describe('GET /audit', () => {
  test('filters: action, key_id (the acting key), target_id, from and to (a date-only to takes its whole UTC day)', async () => {
    const other = (await admin('/api-keys', { body: { name: 'ops 2', scopes: ['admin'] } })).json
    clock.set(Date.UTC(2027, 6, 20, 23, 59, 59, 999))
    const late = (
      await call(t.url, '/api-keys', { headers: bearer(other.key), body: { name: 'by ops 2', scopes: ['mint'] } })
    ).json
    clock.set(Date.UTC(2027, 6, 21))
    const next = (await admin('/api-keys', { body: { name: 'next day', scopes: ['mint'] } })).json
    const targets = async (q: string) => (await audit(q)).data.map((r) => r.target.id)
    assert.deepEqual(await targets(`?key_id=${other.id}`), [late.id])
    assert.deepEqual(await targets('?from=2027-07-20&to=2027-07-20'), [late.id])
    assert.deepEqual(await targets('?from=2027-07-20T23:59:59.999Z&to=2027-07-21T00:00:00Z'), [next.id, late.id])
    assert.deepEqual(await targets('?from=2027-07-21T00:00:00.001Z'), [])
    assert.deepEqual(await targets('?to=2027-07-20T23:59:59.998Z&action=api_key.created&limit=1'), [other.id])
    assert.deepEqual(await targets(`?target_id=${next.id}&action=api_key.revoked`), [])
  })

  test('limit 1 to 1000 (1001 and 0 are 400); a bad date, action or cursor, or from after to, is 400 naming it', async () => {
    assert.equal((await admin('/audit?limit=1000')).status, 200)
    assertError(await admin('/audit?limit=1001'), 400, 'invalid_request', /limit/)
    assertError(await admin('/audit?limit=0'), 400, 'invalid_request', /limit/)
    assertError(await admin('/audit?from=2027-02-30'), 400, 'invalid_request', /from/)
    assertError(await admin('/audit?to=yesterday'), 400, 'invalid_request', /to/)
    assertError(await admin('/audit?action=api_key.deleted'), 400, 'invalid_request', /action/)
    assertError(await admin('/audit?cursor=nope'), 400, 'invalid_request', /cursor/)
    assertError(await admin('/audit?from=2027-07-02&to=2027-07-01'), 400, 'invalid_request', /to/)
    assertError(await admin('/audit?sort=asc'), 400, 'invalid_request')
  })

  test('pages with cursor / next_cursor: every row once, newest first, while rows are being written', async () => {
    const all = (await audit('?limit=1000')).data.map((r) => r.id)
    assert.ok(all.length >= 6, String(all.length))
    const seen: string[] = []
    let page = await audit('?limit=4')
    for (;;) {
      seen.push(...page.data.map((r) => r.id))
      if (!page.next_cursor) break
      await admin('/api-keys', { body: { name: 'written while paging', scopes: ['mint'] } })
      page = await audit(`?limit=4&cursor=${page.next_cursor}`)
    }
    assert.deepEqual(seen, all)
  })

  test('a read key may read it; mint and speech keys get 403 insufficient_scope; tokens 403 api_key_required', async () => {
    const key = async (scopes: string[]) => (await admin('/api-keys', { body: { name: 's', scopes } })).json.key
    assert.equal((await call(t.url, '/audit', { headers: bearer(await key(['read'])) })).status, 200)
    for (const scopes of [['mint'], ['speech']])
      assertError(
        await call(t.url, '/audit', { headers: bearer(await key(scopes)) }),
        403,
        'insufficient_scope',
        /"read"/,
      )
    assertError(await call(t.url, '/audit', { headers: bearer(await mint(t.url, t.apiKey)) }), 403, 'api_key_required')
  })
})

describe('retention', () => {
  test('--audit-retention-days: 1 to 36500', () => {
    assert.equal(parseConfig({ dataDir: 'x' }).auditRetentionDays, 400)
    for (const days of [1, 36_500])
      assert.equal(parseConfig({ dataDir: 'x', auditRetentionDays: days }).auditRetentionDays, days)
    for (const days of [0, 36_501]) assert.throws(() => parseConfig({ dataDir: 'x', auditRetentionDays: days }))
  })

  test('housekeeping prunes rows older than the retention, at start and on its timer, on a controlled clock', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'voxgate-audit-retention-'))
    const now = Date.UTC(2026, 8, 1)
    const DAY = 86_400_000
    const seed = await openStore({ dataDir })
    const row = (id: string, at: number) =>
      seed.appendAudit(
        auditDraft(
          { actor: { type: 'cli' }, requestId: 'r' },
          { at, action: 'quota.removed', target: { type: 'quota', id } },
        ),
      )
    await row('older', now - 2 * DAY - 1)
    await row('edge', now - 2 * DAY)
    await row('later', now - DAY)
    await seed.close()
    const hk = new ManualClock(now)
    const s = await startTestServer({ dataDir, auditRetentionDays: 2, housekeepingIntervalMs: 1000 }, { clock: hk })
    try {
      const targets = async () =>
        (await call(s.url, '/audit?action=quota.removed', { headers: bearer(s.apiKey) })).json.data.map(
          (r: Row) => r.target.id,
        )
      await eventually(async () => !(await targets()).includes('older'), 'pruned at start')
      assert.deepEqual(await targets(), ['later', 'edge'], 'a row exactly at the cutoff stays')
      hk.advance(1)
      await eventually(async () => !(await targets()).includes('edge'), 'pruned by the timer')
      assert.deepEqual(await targets(), ['later'])
    } finally {
      await s.close()
    }
  })
})
