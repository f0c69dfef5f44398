/**
 * The audit row, and for key and signing-key changes their webhook event, are written in the same
 * transaction as their change (issue 22 items 3 and 4), in both stores: when the row or the event
 * cannot be written the change does not happen, and when the change cannot be made neither appears.
 * Failures are made by triggers the test adds to its own database (a SQLite file in a temp folder, a
 * PostgreSQL schema of its own), so the store's code runs unchanged.
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import { openStore } from '../../src/store/open.ts'
import { auditDraft, type AuditAction } from '../../src/store/audit-types.ts'
import type { Store } from '../../src/store/types.ts'
import { keyCreatedEvent, keyRevokedEvent, keyRotatedEvent } from '../../src/keys/events.ts'
import { outboxEvent } from '../../src/webhooks/outbox.ts'
import { TEST_KEK, testSchema, type TestSchema } from '../helpers/postgres.ts'

const TABLES = ['audit_log', 'webhook_events', 'api_keys', 'quotas', 'revocations', 'signing_keys', 'webhooks'] as const
type Table = (typeof TABLES)[number]

/** A store, and a way to make every write to some of its tables fail. */
interface Engine {
  store: Store
  /** Runs SQL on the store's database from outside the store. */
  sql(statement: string): Promise<void>
  failWrites(table: Table): Promise<void>
  allowWrites(table: Table): Promise<void>
  /** Reads the store's database from outside the store. */
  select(query: string): Promise<Record<string, unknown>[]>
  close(): Promise<void>
}

const folders: string[] = []
const schemas: TestSchema[] = []
after(async () => {
  for (const f of folders) rmSync(f, { recursive: true, force: true })
  for (const s of schemas) await s.drop()
})

async function sqlite(): Promise<Engine> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'voxgate-audit-atomic-'))
  folders.push(dataDir)
  const store = await openStore({ dataDir })
  const db = new Database(path.join(dataDir, 'voxgate.db'))
  return {
    store,
    async sql(statement) {
      db.exec(statement)
    },
    async failWrites(table) {
      for (const op of ['INSERT', 'UPDATE', 'DELETE'])
        db.exec(
          `CREATE TRIGGER fail_${op}_${table} BEFORE ${op} ON ${table} BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`,
        )
    },
    async allowWrites(table) {
      for (const op of ['INSERT', 'UPDATE', 'DELETE']) db.exec(`DROP TRIGGER fail_${op}_${table}`)
    },
    async select(query) {
      return db.prepare<[], Record<string, unknown>>(query).all()
    },
    async close() {
      db.close()
      await store.close()
    },
  }
}

async function postgres(): Promise<Engine> {
  const schema = testSchema()
  schemas.push(schema)
  const store = await openStore({ dataDir: '/nonexistent', storeUrl: schema.url(), keyEncryptionKey: TEST_KEK })
  await schema.query(`CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'refused by the test'; END $$`)
  return {
    store,
    async sql(statement) {
      await schema.query(statement)
    },
    async failWrites(table) {
      await schema.query(
        `CREATE TRIGGER test_fail_${table} BEFORE INSERT OR UPDATE OR DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION test_refuse()`,
      )
    },
    async allowWrites(table) {
      await schema.query(`DROP TRIGGER test_fail_${table} ON ${table}`)
    },
    select: (query) => schema.query(query),
    close: () => store.close(),
  }
}

const draft = (action: AuditAction, id: string) =>
  auditDraft(
    { actor: { type: 'api_key', keyId: 'ops' }, requestId: 'req' },
    { at: 5000, action, target: { type: 'x', id } },
  )

const key = (id: string, scopes: ('admin' | 'mint')[]) => ({
  id,
  name: id,
  hash: `hash-${id}`,
  prefix: 'sk_vx_ab',
  createdAt: 1,
  scopes,
  policy: null,
  expiresAt: null,
})

const webhook = (id: string) => ({
  id,
  url: 'https://hooks.example.com/in',
  events: ['api_key.rotated'],
  secret: 'whsec_dGVzdA==',
  createdAt: 1,
})

const signingRotated = (retired: string[]) =>
  outboxEvent({ type: 'signing_key.rotated', data: { kid: 'sig_1', retired }, atMs: 9 })

/** Every audited change, each against the table it writes; `event`: it also puts an event in the outbox. */
const CHANGES: { name: string; table: Table; event?: true; run: (s: Store) => Promise<unknown> }[] = [
  {
    name: 'createApiKey',
    table: 'api_keys',
    event: true,
    run: (s) =>
      s.createApiKey(key('new', ['mint']), { audit: draft('api_key.created', 'new'), event: keyCreatedEvent(5000) }),
  },
  {
    name: 'updateApiKey',
    table: 'api_keys',
    run: (s) => s.updateApiKey('app', { name: 'renamed' }, { audit: draft('api_key.updated', 'app') }),
  },
  {
    name: 'rotateApiKey',
    table: 'api_keys',
    event: true,
    run: (s) =>
      s.rotateApiKey(
        { id: 'app', hash: 'hash-app2', prefix: 'p', previousUntil: 9 },
        { audit: draft('api_key.rotated', 'app'), event: keyRotatedEvent(5000) },
      ),
  },
  {
    name: 'removeApiKey',
    table: 'api_keys',
    event: true,
    run: (s) => s.removeApiKey('app', 7, { audit: draft('api_key.revoked', 'app'), event: keyRevokedEvent(5000) }),
  },
  {
    name: 'putQuota',
    table: 'quotas',
    run: (s) =>
      s.putQuota(
        { id: 'q_new', sub: 'bob', keyId: null, period: 'day', characters: 1, audioSeconds: null, createdAt: 1 },
        draft('quota.set', 'q_new'),
      ),
  },
  { name: 'deleteQuota', table: 'quotas', run: (s) => s.deleteQuota('q_seed', draft('quota.removed', 'q_seed')) },
  {
    name: 'addRevocation',
    table: 'revocations',
    run: (s) =>
      s.addRevocation({ kind: 'sub', sub: 'ann', issuedBefore: 5, expiresAt: 9e12 }, draft('subject.revoked', 'ann')),
  },
  {
    name: 'replaceSigningKey',
    table: 'signing_keys',
    event: true,
    run: (s) =>
      s.replaceSigningKey(
        { kid: 'sig_1', privatePem: 'P', createdAt: 9, retiredAt: null },
        { audit: draft('signing_key.rotated', 'sig_1'), event: signingRotated },
      ),
  },
  {
    name: 'createWebhook',
    table: 'webhooks',
    run: (s) => s.createWebhook(webhook('wh_new'), draft('webhook.created', 'wh_new')),
  },
  {
    name: 'removeWebhook',
    table: 'webhooks',
    run: (s) => s.removeWebhook('wh_seed', draft('webhook.removed', 'wh_seed')),
  },
]

/** Everything the changes above could touch, to compare before and after. */
async function state(s: Store) {
  const snapshot = await s.snapshot()
  return {
    version: snapshot.version,
    keys: (await s.listApiKeys()).map((k) => [k.id, k.name, k.hash, k.previousHash, k.revokedAt]),
    quotas: (await s.listQuotas()).map((q) => [q.id, q.characters]),
    revocations: snapshot.revocations,
    signing: snapshot.signingKeys.map((k) => [k.kid, k.retiredAt]),
    webhooks: (await s.listWebhooks()).map((w) => w.id),
  }
}

const auditRows = async (s: Store) => (await s.queryAudit({ limit: 1000 })).entries.length
const count = async (e: Engine, table: Table) => Number((await e.select(`SELECT count(*) AS n FROM ${table}`))[0]!.n)
/** How many events the outbox holds, and rows the audit log. */
const outboxRows = async (e: Engine) => [await count(e, 'webhook_events'), await count(e, 'audit_log')]

for (const [name, open] of [
  ['SQLite', sqlite],
  ['PostgreSQL', postgres],
] as const) {
  describe(`audit rows and their changes in one transaction: ${name}`, () => {
    async function withSeeded(fn: (e: Engine) => Promise<void>): Promise<void> {
      const e = await open()
      try {
        await e.store.createApiKey(key('ops', ['admin']))
        await e.store.createApiKey(key('app', ['mint']))
        await e.store.putQuota({
          id: 'q_seed',
          sub: 'ann',
          keyId: null,
          period: 'month',
          characters: 5,
          audioSeconds: null,
          createdAt: 1,
        })
        await e.store.addSigningKey({ kid: 'sig_0', privatePem: 'P', createdAt: 1, retiredAt: null })
        await e.store.createWebhook(webhook('wh_seed'))
        await fn(e)
      } finally {
        await e.close()
      }
    }

    test('the audit row cannot be written: every change is refused and leaves nothing changed', () =>
      withSeeded(async (e) => {
        const before = await state(e.store)
        await e.failWrites('audit_log')
        for (const change of CHANGES) await assert.rejects(change.run(e.store), /refused by the test/, change.name)
        assert.deepEqual(await state(e.store), before)
        await e.allowWrites('audit_log')
        assert.equal(await auditRows(e.store), 0)
        assert.equal(await count(e, 'webhook_events'), 0, 'no event either')
      }))

    test('the outbox event cannot be stored: every change that announces one is refused, with no change and no row', () =>
      withSeeded(async (e) => {
        const before = await state(e.store)
        await e.failWrites('webhook_events')
        for (const change of CHANGES.filter((c) => c.event))
          await assert.rejects(change.run(e.store), /refused by the test/, change.name)
        assert.deepEqual(await state(e.store), before)
        await e.allowWrites('webhook_events')
        assert.deepEqual(await outboxRows(e), [0, 0], 'no event, no audit row')
      }))

    test('the change cannot be made: no audit row appears', () =>
      withSeeded(async (e) => {
        for (const change of CHANGES) {
          await e.failWrites(change.table)
          await assert.rejects(change.run(e.store), /refused by the test/, change.name)
          await e.allowWrites(change.table)
        }
        assert.deepEqual(await outboxRows(e), [0, 0], 'no event, no audit row')
      }))

    test('rows cannot be updated, only deleted (by pruning)', () =>
      withSeeded(async (e) => {
        await e.store.createApiKey(key('k', ['mint']), { audit: draft('api_key.created', 'k') })
        await assert.rejects(e.sql("UPDATE audit_log SET action = 'api_key.revoked'"), /append-only/)
        assert.deepEqual(
          (await e.store.queryAudit({ limit: 10 })).entries.map((r) => r.action),
          ['api_key.created'],
        )
      }))

    test('with nothing refused, each change lands with exactly its row', () =>
      withSeeded(async (e) => {
        const before = await state(e.store)
        for (const change of CHANGES) await change.run(e.store)
        assert.notDeepEqual(await state(e.store), before)
        assert.deepEqual((await e.store.queryAudit({ limit: 1000 })).entries.map((r) => r.action).reverse(), [
          'api_key.created',
          'api_key.updated',
          'api_key.rotated',
          'api_key.revoked',
          'quota.set',
          'quota.removed',
          'subject.revoked',
          'signing_key.rotated',
          'webhook.created',
          'webhook.removed',
        ])
        const events = await e.select('SELECT type FROM webhook_events ORDER BY created_at, type')
        assert.deepEqual(
          events.map((r) => r.type),
          ['signing_key.rotated', 'api_key.created', 'api_key.revoked', 'api_key.rotated'],
          'each change that announces itself lands with its event',
        )
      }))
  })
}
