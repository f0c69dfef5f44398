/**
 * The API keys contract (src/store/api-keys.ts): create, find, change, rotate, revoke; the last admin
 * key kept; a change's audit row and outbox event written with it.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { ApiKeyRecord } from '../../../src/store/types.ts'
import { auditDraft } from '../../../src/store/audit-types.ts'
import { key, moved, webhook, type WithStore } from './helpers.ts'

export function apiKeysContract(withStore: WithStore): void {
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

  test('rotation: the new secret and the replaced one find the key; a second rotation ends the first secret', () =>
    withStore(async (s) => {
      await s.createApiKey(key('k'))
      const before = await s.version()
      assert.equal(
        await s.rotateApiKey({ id: 'k', hash: 'hash-k2', prefix: 'sk_vx_k2', previousUntil: 9000 }),
        'changed',
      )
      assert.ok((await s.version()) > before, 'a rotation moves the version')
      for (const hash of ['hash-k2', 'hash-k']) {
        const found = await s.findApiKeyByHash(hash)
        assert.deepEqual(
          [found?.id, found?.hash, found?.previousHash, found?.rotatingUntil, found?.prefix],
          ['k', 'hash-k2', 'hash-k', 9000, 'sk_vx_k2'],
        )
      }
      await s.rotateApiKey({ id: 'k', hash: 'hash-k3', prefix: 'sk_vx_k3', previousUntil: 12_000 })
      assert.equal(await s.findApiKeyByHash('hash-k'), undefined, 'one old secret at a time')
      assert.equal((await s.findApiKeyByHash('hash-k2'))?.rotatingUntil, 12_000)
      assert.equal((await s.findApiKeyByHash('hash-k3'))?.id, 'k')
      assert.equal(await s.rotateApiKey({ id: 'nope', hash: 'h', prefix: 'p', previousUntil: 1 }), 'not_found')
      await s.createApiKey({ ...key('ops'), scopes: ['admin'] })
      await s.removeApiKey('k', 20_000)
      assert.equal(
        await s.rotateApiKey({ id: 'k', hash: 'hash-k4', prefix: 'p', previousUntil: 1 }),
        'not_found',
        'a revoked key is not rotated',
      )
    }))

  test("a key change's event is made from the key as changed and stored with its row; a refused change stores neither", () =>
    withStore(async (s) => {
      await s.createWebhook(webhook('wh_k', ['api_key.created', 'api_key.rotated', 'api_key.revoked']))
      const origin = { actor: { type: 'cli' as const }, requestId: 'req' }
      const trail = (
        action: 'api_key.created' | 'api_key.rotated' | 'api_key.revoked' | 'api_key.updated',
        id: string,
      ) => ({
        audit: auditDraft(origin, { at: 5000, action, target: { type: 'api_key', id } }),
        event: (k: ApiKeyRecord) => ({
          id: `msg_${action}_${id}`,
          type: action,
          body: JSON.stringify([k.id, k.name, k.prefix, k.revokedAt]),
          createdAt: 5000,
          dedupeKey: null,
        }),
      })
      await s.createApiKey({ ...key('ops'), scopes: ['admin'] }, trail('api_key.created', 'ops'))
      await s.createApiKey(key('app'), trail('api_key.created', 'app'))
      assert.equal(await s.updateApiKey('app', { name: 'renamed' }, trail('api_key.updated', 'app')), 'changed')
      const rotation = { id: 'app', hash: 'hash-app2', prefix: 'sk_vx_new', previousUntil: 9000 }
      assert.equal(await s.rotateApiKey(rotation, trail('api_key.rotated', 'app')), 'changed')
      assert.equal(await s.rotateApiKey({ ...rotation, id: 'nope' }, trail('api_key.rotated', 'nope')), 'not_found')
      assert.equal(await s.removeApiKey('ops', 6000, trail('api_key.revoked', 'ops')), 'last_admin_key')
      assert.equal(await s.removeApiKey('app', 6000, trail('api_key.revoked', 'app')), 'changed')
      assert.equal(await s.updateApiKey('app', { name: 'x' }, trail('api_key.updated', 'app')), 'not_found')
      const claimed = await s.claimWebhookDeliveries(5000, 1000, 100)
      assert.deepEqual(
        claimed.map((d) => [d.eventId, JSON.parse(d.body)]).sort(),
        [
          ['msg_api_key.created_app', ['app', 'key app', 'sk_vx_ab', null]],
          ['msg_api_key.created_ops', ['ops', 'key ops', 'sk_vx_ab', null]],
          ['msg_api_key.revoked_app', ['app', 'renamed', 'sk_vx_new', 6000]],
          ['msg_api_key.rotated_app', ['app', 'renamed', 'sk_vx_new', null]],
        ],
        'subscribed types only; from the key as each change left it; none for a refused change',
      )
      const rows = (await s.queryAudit({ limit: 100 })).entries.map((e) => `${e.action} ${e.target.id}`).reverse()
      assert.deepEqual(rows, [
        'api_key.created ops',
        'api_key.created app',
        'api_key.updated app',
        'api_key.rotated app',
        'api_key.revoked app',
      ])
    }))
}
