import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { decodeProtectedHeader } from 'jose'
import { rotateSigningKey } from '../../src/auth/key-ring.ts'
import { cliOrigin } from '../../src/audit/origin.ts'
import { startTestServer } from '../helpers/server.ts'
import { bearer, call, mint } from '../helpers/http.ts'

const voices = (url: string, token: string) => call(url, '/voices', { headers: bearer(token) })

describe('key lifecycle', () => {
  test('revoking a key stops the key and every token it minted', async () => {
    const t = await startTestServer()
    try {
      const token = await mint(t.url, t.apiKey, { grants: { voices: true } })
      assert.equal((await voices(t.url, token)).status, 200)
      assert.equal(await t.server.ctx.store.revokeApiKey(t.apiKeyId, Date.now()), true)
      // The key itself is refused at once (the store is read on every key use).
      const keyRes = await call(t.url, '/access-token', { headers: bearer(t.apiKey), body: {} })
      assert.equal(keyRes.status, 401)
      assert.equal(keyRes.json.error_code, 'invalid_credentials')
      // The cached token is refused once the poller has seen the revocation (poll: 100 ms here).
      await t.server.ctx.sync.refresh()
      const res = await voices(t.url, token)
      assert.equal(res.status, 401)
      assert.equal(res.json.error_code, 'token_revoked')
    } finally {
      await t.close()
    }
  })

  test('signing keys and API keys survive a restart; tokens stay valid', async () => {
    const first = await startTestServer()
    const token = await mint(first.url, first.apiKey, { grants: { voices: true }, expires_in: 600 })
    await first.close({ keepData: true })
    const second = await startTestServer({ dataDir: first.dataDir })
    try {
      assert.equal((await voices(second.url, token)).status, 200)
      assert.equal((await call(second.url, '/access-token', { headers: bearer(first.apiKey), body: {} })).status, 200)
    } finally {
      await second.close()
    }
  })

  test('rotation issues a new kid while tokens of the old one still verify', async () => {
    const t = await startTestServer()
    try {
      const before = await mint(t.url, t.apiKey, { grants: { voices: true } })
      await rotateSigningKey(t.server.ctx.store, Date.now(), { toleranceSeconds: 5, origin: cliOrigin() })
      await t.server.ctx.sync.refresh()
      const afterRotation = await mint(t.url, t.apiKey, { grants: { voices: true } })
      assert.notEqual(decodeProtectedHeader(before).kid, decodeProtectedHeader(afterRotation).kid)
      assert.equal((await voices(t.url, before)).status, 200)
      assert.equal((await voices(t.url, afterRotation)).status, 200)
      const jwks = await call(t.url, '/.well-known/jwks.json')
      assert.equal(jwks.json.keys.length, 2)
    } finally {
      await t.close()
    }
  })
})
