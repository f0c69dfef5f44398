/** Servers on PostgreSQL: instances sharing one schema, signing-key rotation between them, secrets kept out of logs. */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { decodeProtectedHeader } from 'jose'
import { KeyRing, rotateSigningKey } from '../../src/auth/key-ring.ts'
import { cliOrigin } from '../../src/audit/origin.ts'
import { bearer, call, mint } from '../helpers/http.ts'
import { PgProxy, testSchema, type TestSchema } from '../helpers/postgres.ts'
import { startTestServer } from '../helpers/server.ts'

const schemas: TestSchema[] = []
after(async () => {
  for (const s of schemas) await s.drop()
})
const fresh = (): TestSchema => {
  const s = testSchema()
  schemas.push(s)
  return s
}

describe('servers on PostgreSQL', () => {
  test('a rotation on one instance never causes a 401 on another: the unknown kid reloads the keys at once', async () => {
    const schema = fresh()
    const a = await startTestServer({ store: schema.url() })
    const b = await startTestServer({ store: schema.url() })
    try {
      // B learns of the rotation only through the token itself: its poll is stopped.
      b.server.ctx.sync.stop()
      const before = await mint(a.url, a.apiKey, { grants: { voices: true }, expires_in: 60 })
      assert.equal((await call(b.url, '/voices', { headers: bearer(before) })).status, 200, 'one key set for both')
      const kid = await rotateSigningKey(a.server.ctx.store, Date.now(), { toleranceSeconds: 5, origin: cliOrigin() })
      await a.server.ctx.sync.refresh()
      const token = await mint(a.url, a.apiKey, { grants: { voices: true }, expires_in: 60 })
      assert.equal(decodeProtectedHeader(token).kid, kid)
      assert.equal(b.server.ctx.keyRing.publicKey(kid), undefined, 'B has not seen the new key')
      const res = await call(b.url, '/voices', { headers: bearer(token) })
      assert.equal(res.status, 200, res.text)
      assert.equal(
        (await call(b.url, '/voices', { headers: bearer(before) })).status,
        200,
        'tokens of the retired key still verify',
      )
    } finally {
      await a.close()
      await b.close()
    }
  })

  test("the URL's password never reaches the logs, also when PostgreSQL goes away under the server", async () => {
    const schema = fresh()
    const proxy = await PgProxy.start()
    const t = await startTestServer({ store: schema.url(proxy.url('pw-never-logged')), logLevel: 'trace' })
    try {
      assert.equal((await call(t.url, '/access-token', { headers: bearer(t.apiKey), body: {} })).status, 200)
      await proxy.sever()
      // A request that needs the store (a revocation) is 503 store_unavailable, without a detail.
      const res = await call(t.url, '/access-token/revoke', { headers: bearer(t.apiKey), body: { jti: 'tok_x' } })
      assert.equal(res.status, 503)
      assert.equal(res.json.error_code, 'store_unavailable')
      assert.ok(!res.text.includes('pw-never-logged'))
      await t.server.ctx.sync.refresh().catch(() => undefined)
      assert.match(t.logs.text(), /store_unavailable|PostgreSQL/, 'the failure is logged')
      assert.ok(!t.logs.text().includes('pw-never-logged'))
    } finally {
      await t.close()
    }
  })
})

describe('unknown kid reload', () => {
  const pem = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()

  test('one reload for a burst of unknown kids, then at most one per interval; known kids never reload', async () => {
    const ring = new KeyRing()
    let now = 0
    let reloads = 0
    let records: { kid: string; privatePem: string; createdAt: number; retiredAt: null }[] = []
    ring.onUnknownKid(
      async () => {
        reloads++
        ring.load(records)
      },
      1000,
      () => now,
    )
    records = [{ kid: 'sig_new', privatePem: pem, createdAt: 1, retiredAt: null }]
    const found = await Promise.all(Array.from({ length: 10 }, () => ring.findPublicKey('sig_new')))
    assert.equal(reloads, 1, 'concurrent callers share one reload')
    assert.ok(
      found.every((k) => k !== undefined),
      'the reload found the new key',
    )
    assert.notEqual(await ring.findPublicKey('sig_new'), undefined)
    assert.equal(await ring.findPublicKey('sig_made_up'), undefined)
    now = 999
    assert.equal(await ring.findPublicKey('sig_made_up_2'), undefined)
    assert.equal(reloads, 1, 'within the interval: refused without a reload')
    now = 1000
    assert.equal(await ring.findPublicKey('sig_made_up_3'), undefined)
    assert.equal(reloads, 2)
    assert.equal(await ring.findPublicKey(42), undefined)
    assert.equal(reloads, 2, 'a kid that is not a string never reloads')
  })

  test('a failing reload leaves the ring as it was and the token refused', async () => {
    const ring = new KeyRing()
    ring.onUnknownKid(
      () => Promise.reject(new Error('store down')),
      1000,
      () => 0,
    )
    assert.equal(await ring.findPublicKey('sig_x'), undefined)
  })
})
