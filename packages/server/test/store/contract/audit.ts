/**
 * The audit log contract (src/store/audit-types.ts): the row each audited change writes with it, on
 * every concern, and the log itself: appended at most once per key and window, filtered, paged, pruned.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { AuditDraft, AuditOrigin } from '../../../src/store/audit-types.ts'
import { auditDraft } from '../../../src/store/audit-types.ts'
import type { Store } from '../../../src/store/types.ts'
import { HOUR, type WithStore } from './helpers.ts'

const ORIGIN: AuditOrigin = { actor: { type: 'api_key', keyId: 'key_ops' }, requestId: 'req-1', ip: '127.0.0.1' }
const CLI: AuditOrigin = { actor: { type: 'cli' }, requestId: 'req-cli' }

const key = (id: string, scopes: ('admin' | 'mint')[] = ['mint']) => ({
  id,
  name: `key ${id}`,
  hash: `hash-${id}`,
  prefix: 'sk_vx_ab',
  createdAt: 1000,
  scopes,
  policy: null,
  expiresAt: null,
})
const draft = (action: AuditDraft['action'], id: string, at = 5000, origin = ORIGIN): AuditDraft =>
  auditDraft(origin, { at, action, target: { type: 'api_key', id }, details: { n: 1 } })

/** Every row, oldest first (as [action, target id]). */
async function rows(s: Store): Promise<[string, string][]> {
  const page = await s.queryAudit({ limit: 1000 })
  return page.entries.map((e): [string, string] => [e.action, e.target.id]).reverse()
}

export function auditContract(withStore: WithStore): void {
  test('each audited change appends its row; a change that changes nothing appends none', () =>
    withStore(async (s) => {
      await s.createApiKey(key('ops', ['admin']), { audit: draft('api_key.created', 'ops') })
      await s.createApiKey(key('app'), { audit: draft('api_key.created', 'app') })
      assert.equal(await s.updateApiKey('app', { name: 'x' }, { audit: draft('api_key.updated', 'app') }), 'changed')
      assert.equal(
        await s.updateApiKey('ops', { scopes: ['read'] }, { audit: draft('api_key.updated', 'ops') }),
        'last_admin_key',
      )
      assert.equal(
        await s.updateApiKey('nope', { name: 'x' }, { audit: draft('api_key.updated', 'nope') }),
        'not_found',
      )
      await s.rotateApiKey(
        { id: 'app', hash: 'hash-app2', prefix: 'p', previousUntil: 1 },
        { audit: draft('api_key.rotated', 'app') },
      )
      await s.rotateApiKey(
        { id: 'nope', hash: 'h', prefix: 'p', previousUntil: 1 },
        { audit: draft('api_key.rotated', 'nope') },
      )
      assert.equal(await s.removeApiKey('ops', 6000, { audit: draft('api_key.revoked', 'ops') }), 'last_admin_key')
      assert.equal(await s.removeApiKey('app', 6000, { audit: draft('api_key.revoked', 'app') }), 'changed')
      assert.equal(await s.removeApiKey('app', 6000, { audit: draft('api_key.revoked', 'app') }), 'not_found')
      const q = {
        id: 'q1',
        sub: 'ann',
        keyId: null,
        period: 'day' as const,
        characters: 5,
        audioSeconds: null,
        createdAt: 1,
      }
      const quotaDraft = auditDraft(ORIGIN, { at: 5000, action: 'quota.set', target: { type: 'quota', id: 'new' } })
      await s.putQuota(q, quotaDraft)
      await s.putQuota({ ...q, id: 'q2', characters: 9 }, quotaDraft)
      assert.equal(await s.deleteQuota('q1', draft('quota.removed', 'q1')), true)
      assert.equal(await s.deleteQuota('q1', draft('quota.removed', 'q1')), false)
      await s.addRevocation({ kind: 'jti', jti: 'tok_1', expiresAt: HOUR }, draft('token.revoked', 'tok_1'))
      await s.addSigningKey({ kid: 'sig_old', privatePem: 'P', createdAt: 1, retiredAt: null })
      const retired = await s.replaceSigningKey(
        { kid: 'sig_new', privatePem: 'P2', createdAt: 8000, retiredAt: null },
        { audit: draft('signing_key.rotated', 'sig_new') },
      )
      assert.deepEqual(retired, ['sig_old'])
      assert.deepEqual(
        (await s.snapshot()).signingKeys.map((k) => [k.kid, k.retiredAt]),
        [
          ['sig_old', 8000],
          ['sig_new', null],
        ],
      )
      assert.deepEqual(await rows(s), [
        ['api_key.created', 'ops'],
        ['api_key.created', 'app'],
        ['api_key.updated', 'app'],
        ['api_key.rotated', 'app'],
        ['api_key.revoked', 'app'],
        ['quota.set', 'q1'],
        ['quota.set', 'q1'],
        ['quota.removed', 'q1'],
        ['token.revoked', 'tok_1'],
        ['signing_key.rotated', 'sig_new'],
      ])
      const page = await s.queryAudit({ limit: 1000 })
      const quotaRows = page.entries.filter((e) => e.action === 'quota.set').reverse()
      assert.deepEqual(
        quotaRows.map((e) => e.details.created),
        [true, false],
        'the store names the quota it kept and whether it made it',
      )
      assert.deepEqual(page.entries[0]!.details, { n: 1, retired: ['sig_old'] })
      const created = page.entries.at(-1)!
      assert.deepEqual(
        { ...created, id: 'x' },
        {
          id: 'x',
          at: 5000,
          action: 'api_key.created',
          actor: { type: 'api_key', keyId: 'key_ops' },
          target: { type: 'api_key', id: 'ops' },
          requestId: 'req-1',
          ip: '127.0.0.1',
          details: { n: 1 },
        },
      )
      assert.match(created.id, /^aud_[A-Za-z0-9_-]{16}$/)
    }))

  test('webhooks: adding and removing one appends its row; removing one that is gone appends none', () =>
    withStore(async (s) => {
      const hook = {
        id: 'wh_1',
        url: 'https://hooks.example.com/in',
        events: ['quota.threshold'],
        secret: 'whsec_dGVzdA==',
        createdAt: 1000,
      }
      const created = auditDraft(ORIGIN, {
        at: 5000,
        action: 'webhook.created',
        target: { type: 'webhook', id: 'wh_1' },
        details: { url: 'https://hooks.example.com/***', events: ['quota.threshold'] },
      })
      await s.createWebhook(hook, created)
      assert.deepEqual(await s.getWebhook('wh_1'), hook)
      const removed = auditDraft(CLI, { at: 6000, action: 'webhook.removed', target: { type: 'webhook', id: 'wh_1' } })
      assert.equal(await s.removeWebhook('wh_1', removed), true)
      assert.equal(await s.removeWebhook('wh_1', removed), false)
      assert.equal(await s.getWebhook('wh_1'), undefined)
      const entries = (await s.queryAudit({ limit: 1000 })).entries.map((e) => ({ ...e, id: 'x' }))
      assert.deepEqual(entries, [
        { ...removed, id: 'x' },
        { ...created, id: 'x' },
      ])
    }))

  test('appendAudit with once: at most one row per key within the window, even when racing', () =>
    withStore(async (s) => {
      const once = { key: 'api_key.expired_used:k', withinMs: HOUR }
      const tries = await Promise.all(
        Array.from({ length: 10 }, () => s.appendAudit(draft('api_key.expired_used', 'k', 10 * HOUR), once)),
      )
      assert.equal(tries.filter(Boolean).length, 1)
      assert.equal(await s.appendAudit(draft('api_key.expired_used', 'k', 11 * HOUR - 1), once), false)
      assert.equal(await s.appendAudit(draft('api_key.expired_used', 'k', 11 * HOUR), once), true)
      assert.equal(
        await s.appendAudit(draft('api_key.expired_used', 'other', 11 * HOUR), { ...once, key: 'x:other' }),
        true,
      )
      assert.equal(await s.appendAudit(draft('api_key.created', 'plain', 11 * HOUR)), true, 'without once: always')
      assert.equal((await rows(s)).length, 4)
    }))

  test('queryAudit: filters by time (inclusive), action, acting key and target; pages newest first', () =>
    withStore(async (s) => {
      for (let i = 0; i < 6; i++)
        await s.appendAudit(
          draft(i % 2 === 0 ? 'api_key.created' : 'quota.set', `t${i}`, 1000 * i, i < 3 ? ORIGIN : CLI),
        )
      const ids = async (f: Parameters<Store['queryAudit']>[0]) =>
        (await s.queryAudit(f)).entries.map((e) => e.target.id)
      assert.deepEqual(await ids({ limit: 10 }), ['t5', 't4', 't3', 't2', 't1', 't0'])
      assert.deepEqual(await ids({ limit: 10, fromMs: 1000, toMs: 3000 }), ['t3', 't2', 't1'])
      assert.deepEqual(await ids({ limit: 10, action: 'quota.set' }), ['t5', 't3', 't1'])
      assert.deepEqual(await ids({ limit: 10, actorKeyId: 'key_ops' }), ['t2', 't1', 't0'])
      assert.deepEqual(await ids({ limit: 10, targetId: 't4' }), ['t4'])
      const first = await s.queryAudit({ limit: 4 })
      assert.deepEqual(first.next, { at: 2000, seq: first.next!.seq })
      assert.equal((await s.queryAudit({ limit: 6 })).next, null, 'the last page has no cursor')
    }))

  test('paging is stable under concurrent inserts: no row repeats or goes missing', () =>
    withStore(async (s) => {
      // Several rows share one millisecond: the order within it is the order of writing.
      for (let i = 0; i < 7; i++) await s.appendAudit(draft('api_key.created', `r${i}`, 1000 + Math.floor(i / 3)))
      const seen: string[] = []
      let page = await s.queryAudit({ limit: 3 })
      let extra = 0
      for (;;) {
        seen.push(...page.entries.map((e) => e.target.id))
        if (!page.next) break
        // Rows written between pages (at the same and later times) do not disturb the pages after.
        await s.appendAudit(draft('api_key.created', `new${extra++}`, 1002))
        await s.appendAudit(draft('api_key.created', `new${extra++}`, 5000))
        page = await s.queryAudit({ limit: 3, after: page.next })
      }
      assert.deepEqual(seen, ['r6', 'r5', 'r4', 'r3', 'r2', 'r1', 'r0'])
    }))

  test('pruneAudit drops rows written before the cutoff, and only those', () =>
    withStore(async (s) => {
      await s.appendAudit(draft('api_key.created', 'old', 1000))
      await s.appendAudit(draft('api_key.created', 'edge', 2000))
      await s.appendAudit(draft('api_key.created', 'new', 3000))
      const before = await s.version()
      assert.equal(await s.pruneAudit(2000), 1)
      assert.equal(await s.version(), before, 'pruning the audit log never moves the version')
      assert.deepEqual(await rows(s), [
        ['api_key.created', 'edge'],
        ['api_key.created', 'new'],
      ])
      assert.equal(await s.pruneAudit(2000), 0)
    }))

  test('a console session and its console.signed_in row: both or neither', () =>
    withStore(async (s) => {
      const session = {
        idHash: 'h1',
        keyId: 'key_ops',
        scope: 'read' as const,
        createdAt: 1,
        lastSeenAt: 1,
        expiresAt: 9,
      }
      const signedIn = auditDraft(
        { actor: { type: 'console', keyId: 'key_ops' }, requestId: 'req-2', ip: '127.0.0.1' },
        {
          at: 5000,
          action: 'console.signed_in',
          target: { type: 'console_session', id: 'cs_h1' },
          details: { scope: 'read', method: 'key' },
        },
      )
      await s.createConsoleSession(session, signedIn)
      assert.deepEqual(await s.getConsoleSession('h1'), session)
      // A row that cannot be written (a BigInt is no JSON) leaves no session behind.
      const unwritable = { ...signedIn, details: { n: 1n } }
      await assert.rejects(s.createConsoleSession({ ...session, idHash: 'h2' }, unwritable))
      assert.equal(await s.getConsoleSession('h2'), undefined)
      const entries = (await s.queryAudit({ limit: 1000 })).entries.map((e) => ({ ...e, id: 'x' }))
      assert.deepEqual(entries, [{ ...signedIn, id: 'x' }])
    }))
}
