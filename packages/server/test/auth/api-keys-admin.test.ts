/**
 * Keys over HTTP (issue 22 item 2): create, list, change, revoke; expiry on a controlled clock; the
 * last admin key kept; a revoked key and its tokens stopped at once.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { bearer, call, mint, type ApiResponse } from '../helpers/http.ts'
import { ManualClock } from '../helpers/clock.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

const clock = new ManualClock(Date.UTC(2026, 5, 1))
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
const admin = (path: string, init: { method?: string; body?: unknown } = {}) =>
  call(t.url, path, { ...init, headers: bearer(t.apiKey) })

describe('POST /api-keys', () => {
  test('201 with the secret once; later keys default to mint and speech; listing never shows a secret', async () => {
    const res = await admin('/api-keys', { body: { name: 'app backend' } })
    assert.equal(res.status, 201, res.text)
    assert.deepEqual(Object.keys(res.json).sort(), ['created_at', 'expires_at', 'id', 'key', 'name', 'scopes'])
    assert.deepEqual([res.json.name, res.json.scopes, res.json.expires_at], ['app backend', ['mint', 'speech'], null])
    assert.match(res.json.key, /^sk_vx_/)
    assert.equal((await call(t.url, '/access-token', { headers: bearer(res.json.key), body: {} })).status, 200)
    const list = await admin('/api-keys')
    assert.equal(list.status, 200)
    assert.ok(!list.text.includes(res.json.key) && !list.text.includes('"hash"'))
    const one = await admin(`/api-keys/${res.json.id}`)
    assert.deepEqual(
      [one.json.id, one.json.scopes, one.json.prefix],
      [res.json.id, ['mint', 'speech'], res.json.key.slice(0, 12)],
    )
  })

  test('bad bodies are 400 naming the field: unknown scope, past expires_at, empty name', async () => {
    assertError(await admin('/api-keys', { body: { name: 'x', scopes: ['root'] } }), 400, 'invalid_request', /scopes/)
    const past = new Date(clock.now() - 1000).toISOString()
    assertError(
      await admin('/api-keys', { body: { name: 'x', expires_at: past } }),
      400,
      'invalid_request',
      /expires_at/,
    )
    assertError(await admin('/api-keys', { body: { name: '' } }), 400, 'invalid_request', /name/)
  })

  test('a read key lists keys but cannot create one', async () => {
    const read = (await admin('/api-keys', { body: { name: 'reader', scopes: ['read'] } })).json.key
    assert.equal((await call(t.url, '/api-keys', { headers: bearer(read) })).status, 200)
    assertError(
      await call(t.url, '/api-keys', { headers: bearer(read), body: { name: 'x' } }),
      403,
      'insufficient_scope',
      /"admin" scope/,
    )
  })
})

describe('expiry on a controlled clock', () => {
  test('the key works until expires_at, then 401 api_key_expired with WWW-Authenticate', async () => {
    const expiresAt = new Date(clock.now() + 60_000).toISOString()
    const key = (await admin('/api-keys', { body: { name: 'short', expires_at: expiresAt } })).json.key
    clock.advance(59_999)
    assert.equal((await call(t.url, '/access-token', { headers: bearer(key), body: {} })).status, 200)
    clock.advance(1)
    const res = await call(t.url, '/access-token', { headers: bearer(key), body: {} })
    assertError(res, 401, 'api_key_expired')
    assert.equal(res.headers.get('www-authenticate'), 'Bearer error="invalid_token"')
  })
})

describe('the last admin key', () => {
  test('deleting or down-scoping the last admin key is 409 last_admin_key; with another admin it is allowed', async () => {
    // Every admin key but the test's own is gone first, so it is the last one.
    for (const k of (await admin('/api-keys')).json.data)
      if (k.id !== t.apiKeyId && k.scopes.includes('admin')) await admin(`/api-keys/${k.id}`, { method: 'DELETE' })
    assertError(await admin(`/api-keys/${t.apiKeyId}`, { method: 'DELETE' }), 409, 'last_admin_key')
    assertError(
      await admin(`/api-keys/${t.apiKeyId}`, { method: 'PATCH', body: { scopes: ['read'] } }),
      409,
      'last_admin_key',
    )
    const second = (await admin('/api-keys', { body: { name: 'ops 2', scopes: ['admin'] } })).json
    const patched = await call(t.url, `/api-keys/${second.id}`, {
      method: 'PATCH',
      headers: bearer(second.key),
      body: { name: 'ops two' },
    })
    assert.deepEqual([patched.status, patched.json.name, patched.json.scopes], [200, 'ops two', ['admin']])
    assert.equal((await admin(`/api-keys/${second.id}`, { method: 'DELETE' })).status, 204)
  })
})

describe('DELETE /api-keys/:id', () => {
  test('204; afterwards the key is 401 invalid_credentials and its tokens are revoked; a second delete is 404', async () => {
    const created = (await admin('/api-keys', { body: { name: 'doomed' } })).json
    const token = await mint(t.url, created.key)
    assert.equal((await admin(`/api-keys/${created.id}`, { method: 'DELETE' })).status, 204)
    assertError(
      await call(t.url, '/access-token', { headers: bearer(created.key), body: {} }),
      401,
      'invalid_credentials',
    )
    assertError(await call(t.url, '/access-token/self', { headers: bearer(token) }), 401, 'token_revoked')
    assertError(await admin(`/api-keys/${created.id}`, { method: 'DELETE' }), 404, 'not_found')
    const revoked = (await admin('/api-keys?status=revoked')).json.data.map((k: { id: string }) => k.id)
    assert.ok(revoked.includes(created.id))
    assert.ok(!(await admin('/api-keys')).json.data.some((k: { id: string }) => k.id === created.id))
  })
})

describe('DELETE /api-keys/:id across instances', () => {
  test('another instance on the same store refuses the key and its tokens within its store poll', async () => {
    const b = await startTestServer({ dataDir: t.dataDir })
    try {
      const created = (await admin('/api-keys', { body: { name: 'shared' } })).json
      const token = await mint(b.url, created.key)
      assert.equal((await call(b.url, '/access-token/self', { headers: bearer(token) })).status, 200)
      assert.equal((await admin(`/api-keys/${created.id}`, { method: 'DELETE' })).status, 204)
      // B reads the store on every key use, so the key is refused at once; tokens follow its poll (100 ms here).
      assertError(
        await call(b.url, '/access-token', { headers: bearer(created.key), body: {} }),
        401,
        'invalid_credentials',
      )
      let res = await call(b.url, '/access-token/self', { headers: bearer(token) })
      for (let i = 0; i < 50 && res.status === 200; i++) {
        await new Promise((r) => setTimeout(r, 20))
        res = await call(b.url, '/access-token/self', { headers: bearer(token) })
      }
      assertError(res, 401, 'token_revoked')
    } finally {
      await b.close({ keepData: true })
    }
  })
})
