/** The PostgreSQL store: the shared contract, then what only a networked store has to get right. */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { StoreError } from '../../src/store/errors.ts'
import { MIGRATIONS } from '../../src/store/postgres/migrations.ts'
import { openStore } from '../../src/store/open.ts'
import type { Store } from '../../src/store/types.ts'
import { newKek, PgProxy, shownProxyUrl, testSchema, type TestSchema } from '../helpers/postgres.ts'
import { storeContract } from './contract/index.ts'

const schemas: TestSchema[] = []
after(async () => {
  for (const s of schemas) await s.drop()
})
const fresh = (): TestSchema => {
  const s = testSchema()
  schemas.push(s)
  return s
}
const KEK = newKek()
/** `null`: no key-encryption key at all. */
const open = (url: string, kek: string | null = KEK): Promise<Store> =>
  openStore({ dataDir: '/nonexistent', storeUrl: url, keyEncryptionKey: kek ?? undefined })
const pem = () => generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()
const isStoreError = (code: string, message?: RegExp) => (err: unknown) =>
  err instanceof StoreError && err.code === code && (message === undefined || message.test(err.message))

storeContract('PostgreSQL', () => open(fresh().url()))

describe('PostgreSQL store', () => {
  test('keys made before the scopes migration keep full power (admin) and no policy', async () => {
    const schema = fresh()
    await schema.query(`CREATE SCHEMA "${schema.name}"`)
    await schema.query('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)')
    for (let v = 1; v <= 7; v++) {
      await schema.query(MIGRATIONS[v - 1]!)
      await schema.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, 1)', [v])
    }
    await schema.query(
      "INSERT INTO api_keys (id, name, hash, prefix, created_at) VALUES ('key_old', 'old', 'h-old', 'sk_vx_ab', 1)",
    )
    const store = await open(schema.url())
    try {
      const key = await store.findApiKeyByHash('h-old')
      assert.deepEqual([key?.scopes, key?.policy], [['admin'], null])
    } finally {
      await store.close()
    }
  })

  test('5 instances starting at once on a fresh schema all succeed, and migrate it once', async () => {
    const schema = fresh()
    const stores = await Promise.all(Array.from({ length: 5 }, () => open(schema.url())))
    try {
      assert.deepEqual(
        await schema.query('SELECT version FROM schema_migrations ORDER BY version'),
        MIGRATIONS.map((_, i) => ({ version: i + 1 })),
      )
      assert.deepEqual(await schema.query('SELECT name, value FROM meta'), [{ name: 'version', value: '1' }])
      await stores[0]!.createApiKey({
        id: 'k',
        name: 'k',
        hash: 'h',
        prefix: 'p',
        createdAt: 1,
        scopes: ['admin'],
        policy: null,
        expiresAt: null,
      })
      assert.equal((await stores[4]!.listApiKeys()).length, 1, 'one schema, seen by every instance')
    } finally {
      await Promise.all(stores.map((s) => s.close()))
    }
    const again = await open(schema.url())
    await again.close()
    assert.equal(
      (await schema.query('SELECT version FROM schema_migrations')).length,
      MIGRATIONS.length,
      'a restart applies nothing twice',
    )
  })

  test('reservations from several instances at once never pass the budget', async () => {
    const schema = fresh()
    const stores = await Promise.all(Array.from({ length: 3 }, () => open(schema.url())))
    try {
      const results = await Promise.all(
        Array.from({ length: 60 }, (_, i) =>
          stores[i % 3]!.reserveCharacters('tok_shared', 7, 100, Date.now() + 60_000),
        ),
      )
      assert.equal(results.filter((r) => r.granted).length, 14)
      assert.equal(await stores[1]!.usedCharacters('tok_shared'), 98)
    } finally {
      await Promise.all(stores.map((s) => s.close()))
    }
  })

  test('signing keys are sealed: no PEM in the database, and a key moved to another kid does not open', async () => {
    const schema = fresh()
    const store = await open(schema.url())
    try {
      const [a, b] = [pem(), pem()]
      await store.addSigningKey({ kid: 'sig_a', privatePem: a, createdAt: 1, retiredAt: null })
      await store.addSigningKey({ kid: 'sig_b', privatePem: b, createdAt: 2, retiredAt: null })
      assert.deepEqual(
        (await store.snapshot()).signingKeys.map((k) => k.privatePem),
        [a, b],
      )
      const rows = await schema.query<{ kid: string; private_key_sealed: string }>(
        'SELECT kid, private_key_sealed FROM signing_keys ORDER BY kid',
      )
      const der = (p: string) => p.split('\n').slice(1, -2).join('')
      for (const [i, row] of rows.entries()) {
        assert.match(row.private_key_sealed, /^v1:[A-Za-z0-9+/]+=*$/)
        assert.ok(!row.private_key_sealed.includes('PRIVATE KEY'))
        assert.ok(!row.private_key_sealed.includes(der([a, b][i]!).slice(0, 24)), 'not the key in plain base64 either')
      }
      await schema.query('UPDATE signing_keys SET private_key_sealed = $1 WHERE kid = $2', [
        rows[0]!.private_key_sealed,
        'sig_b',
      ])
      await assert.rejects(store.snapshot(), isStoreError('kek_wrong'))
    } finally {
      await store.close()
    }
  })

  test('the key-encryption key: required, 32 bytes of base64, and the right one, or the store does not open', async () => {
    const schema = fresh()
    await assert.rejects(
      open(schema.url(), null),
      isStoreError(
        'kek_missing',
        /^a PostgreSQL store needs VOXGATE_KEY_ENCRYPTION_KEY \(32 random bytes in base64: openssl rand -base64 32\)$/,
      ),
    )
    await assert.rejects(open(schema.url(), Buffer.alloc(16).toString('base64')), isStoreError('kek_invalid'))
    await assert.rejects(open(schema.url(), 'not base64 at all!'), isStoreError('kek_invalid'))
    const store = await open(schema.url())
    await store.addSigningKey({ kid: 'sig_1', privatePem: pem(), createdAt: 1, retiredAt: null })
    await store.close()
    await assert.rejects(
      open(schema.url(), newKek()),
      isStoreError('kek_wrong', /^VOXGATE_KEY_ENCRYPTION_KEY does not open the signing keys in this database/),
    )
    const reopened = await open(schema.url())
    assert.equal((await reopened.snapshot()).signingKeys.length, 1)
    await reopened.close()
  })

  test('PostgreSQL unreachable at start: one clear line naming the URL without its password', async () => {
    const proxy = await PgProxy.start()
    await proxy.sever()
    const schema = fresh()
    const err = await open(schema.url(proxy.url('s3cr3t-pw'))).then(
      () => undefined,
      (e: unknown) => e,
    )
    assert.ok(isStoreError('store_unreachable')(err), String(err))
    const message = (err as Error).message
    assert.ok(message.startsWith(`cannot reach PostgreSQL at ${shownProxyUrl(proxy.port, schema.name)}: `), message)
    assert.ok(!message.includes('s3cr3t-pw') && !message.includes('\n'), message)
  })

  test('PostgreSQL cut at run time: calls reject with store_unavailable instead of hanging, and recover', async () => {
    const schema = fresh()
    const proxy = await PgProxy.start()
    const store = await open(schema.url(proxy.url('s3cr3t-pw')))
    try {
      await store.createApiKey({
        id: 'k',
        name: 'k',
        hash: 'h',
        prefix: 'p',
        createdAt: 1,
        scopes: ['admin'],
        policy: null,
        expiresAt: null,
      })
      await proxy.sever()
      for (const call of [
        () => store.version(),
        () => store.findApiKeyByHash('h'),
        () => store.reserveCharacters('t', 1, 10, 1),
      ]) {
        await assert.rejects(
          call(),
          (err: unknown) => isStoreError('store_unavailable')(err) && !(err as Error).message.includes('s3cr3t-pw'),
        )
      }
    } finally {
      await store.close()
    }
  })

  test('a link that silently stops answering: calls reject once the query timeout passes', async () => {
    const schema = fresh()
    // The schema is migrated first on a direct link with the default timeouts: creating the
    // tables on a loaded machine can take longer than the short timeout this test is about.
    await (await open(schema.url())).close()
    const proxy = await PgProxy.start()
    const store = await open(schema.url(proxy.url(), { query_timeout: '1000', connect_timeout: '1' }))
    try {
      assert.equal(await store.version(), 1)
      proxy.stall()
      await Promise.all([
        assert.rejects(store.version(), isStoreError('store_unavailable')),
        assert.rejects(store.snapshot(), isStoreError('store_unavailable')),
      ])
    } finally {
      await proxy.sever()
      await store.close()
    }
  })

  test('a bad --store URL is refused without echoing it', async () => {
    for (const url of [
      'mysql://u:hunter2@h/db',
      'postgres://u:hunter2@h/db?schema=a;b',
      'postgres://u:hunter2@h/db?schema=Upper',
      'postgres://u:hunter2@h/db?query_timeout=soon',
    ]) {
      await assert.rejects(
        open(url),
        (err: unknown) => isStoreError('bad_store_url')(err) && !(err as Error).message.includes('hunter2'),
        url,
      )
    }
  })
})
