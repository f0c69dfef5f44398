/**
 * An API key verified once is not read from the store again while the store's change counter stands
 * still (issue 26 item 1), and any change to any key, made by another process on the same data folder,
 * is seen on the key's next use: revocation, expiry, a rotation's grace, scopes.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createKey } from '../../src/keys/create-key.ts'
import { generateApiKey } from '../../src/auth/api-keys.ts'
import { openStore } from '../../src/store/open.ts'
import type { Store } from '../../src/store/types.ts'
import { bearer, call } from '../helpers/http.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

const dataDir = mkdtempSync(path.join(tmpdir(), 'voxgate-key-cache-'))
let lookups = 0
let own: Store
/** The server's store, counting the key lookups it is asked for. */
let counted: Store
/** A second connection to the same file: what the CLI or another instance writes through. */
let other: Store
let t: TestServer
before(async () => {
  own = await openStore({ dataDir })
  counted = new Proxy(own, {
    get(target, prop) {
      if (prop === 'findApiKeyByHash') lookups++
      const value: unknown = Reflect.get(target, prop)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
  t = await startTestServer({ dataDir }, { store: counted })
  other = await openStore({ dataDir })
})
after(async () => {
  await t.close()
  await other.close()
  await own.close()
})

const mintWith = async (key: string) => {
  const res = await call(t.url, '/access-token', { headers: bearer(key), body: { expires_in: 60 } })
  return res.status === 200 ? 200 : `${res.status} ${res.json.error_code}`
}

describe('API keys checked once per store change', () => {
  test('a key used again while nothing changed is not read again', async () => {
    const k = await createKey(other, 'app', Date.now(), { scopes: ['mint'] })
    const before = lookups
    for (let i = 0; i < 5; i++) assert.equal(await mintWith(k.key), 200)
    assert.equal(lookups - before, 1)
  })

  test('revoked by another process: refused on the next use', async () => {
    const k = await createKey(other, 'app', Date.now(), { scopes: ['mint'] })
    assert.equal(await mintWith(k.key), 200)
    assert.equal(await other.revokeApiKey(k.id, Date.now()), true)
    assert.equal(await mintWith(k.key), '401 invalid_credentials')
  })

  test('expired by another process: refused on the next use', async () => {
    const k = await createKey(other, 'app', Date.now(), { scopes: ['mint'] })
    assert.equal(await mintWith(k.key), 200)
    assert.equal(await other.updateApiKey(k.id, { expiresAt: Date.now() - 1000 }), 'changed')
    assert.equal(await mintWith(k.key), '401 api_key_expired')
  })

  test('scopes narrowed by another process: the next use has the new scopes', async () => {
    const k = await createKey(other, 'app', Date.now(), { scopes: ['admin'] })
    const listKeys = () => call(t.url, '/api-keys', { headers: bearer(k.key) })
    assert.equal((await listKeys()).status, 200)
    assert.equal(await other.updateApiKey(k.id, { scopes: ['mint'] }), 'changed')
    const res = await listKeys()
    assert.equal(res.status, 403, res.text)
    assert.equal(res.json.error_code, 'insufficient_scope')
  })

  test('rotated by another process: the old secret works through the grace, then is refused', async () => {
    const k = await createKey(other, 'app', Date.now(), { scopes: ['mint'] })
    assert.equal(await mintWith(k.key), 200)
    const second = generateApiKey()
    const rotation = { id: k.id, hash: second.hash, prefix: second.prefix, previousUntil: Date.now() + 60_000 }
    assert.equal(await other.rotateApiKey(rotation), 'changed')
    assert.equal(await mintWith(k.key), 200)
    assert.equal(await mintWith(second.key), 200)
    // A second rotation with no grace: the secret it replaces stops at once, the first is gone.
    const third = generateApiKey()
    assert.equal(
      await other.rotateApiKey({ id: k.id, hash: third.hash, prefix: third.prefix, previousUntil: 0 }),
      'changed',
    )
    assert.equal(await mintWith(second.key), '401 api_key_expired')
    assert.equal(await mintWith(k.key), '401 invalid_credentials')
  })
})
