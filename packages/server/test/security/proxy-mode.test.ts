/**
 * `insecureHttpBehindProxy`: plain HTTP, for a TLS-terminating proxy only. A credential is accepted
 * only when a trusted proxy says the client spoke HTTPS (`X-Forwarded-Proto: https`).
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { bearer, call } from '../helpers/http.ts'
import { handshake } from '../helpers/ws.ts'

const HTTPS = { 'x-forwarded-proto': 'https' }

describe('behind a trusted proxy (127.0.0.1 trusted by default)', () => {
  let t: TestServer
  before(async () => {
    t = await startTestServer({ insecureHttpBehindProxy: true })
  })
  after(() => t.close())
  const ws = (headers: Record<string, string>) => handshake(`${t.url.replace(/^http/, 'ws')}/tts/websocket`, headers)

  test('the server speaks plain http', () => {
    assert.match(t.url, /^http:\/\//)
  })

  test('an uncredentialed GET / answers 200', async () => {
    assert.equal((await call(t.url, '/')).status, 200)
  })

  test('a credential without X-Forwarded-Proto is 403 insecure_transport', async () => {
    const res = await call(t.url, '/voices', { headers: bearer(t.apiKey) })
    assert.equal(res.status, 403)
    assert.equal(res.json.error_code, 'insecure_transport')
    assert.ok(!res.text.includes(t.apiKey))
  })

  test('X-Forwarded-Proto: https from the trusted proxy → 200', async () => {
    assert.equal((await call(t.url, '/voices', { headers: { ...bearer(t.apiKey), ...HTTPS } })).status, 200)
    assert.equal(
      (await call(t.url, '/access-token', { headers: { ...bearer(t.apiKey), ...HTTPS }, body: {} })).status,
      200,
    )
  })

  test('the first hop decides: "https, http" passes, "http" and "http, https" do not', async () => {
    assert.equal(
      (await call(t.url, '/voices', { headers: { ...bearer(t.apiKey), 'x-forwarded-proto': 'HTTPS, http' } })).status,
      200,
    )
    for (const proto of ['http', 'http, https', 'ws', '']) {
      const res = await call(t.url, '/voices', { headers: { ...bearer(t.apiKey), 'x-forwarded-proto': proto } })
      assert.equal(res.status, 403, `X-Forwarded-Proto: ${proto}`)
      assert.equal(res.json.error_code, 'insecure_transport')
    }
  })

  test('no credential is still 401 missing_credentials (nothing crossed in clear text)', async () => {
    const res = await call(t.url, '/voices')
    assert.equal(res.status, 401)
    assert.equal(res.json.error_code, 'missing_credentials')
  })

  test('the WebSocket handshake obeys the same rule', async () => {
    const refused = await ws({ 'x-api-key': t.apiKey })
    assert.equal(refused.status, 403)
    assert.equal(JSON.parse(refused.body).error_code, 'insecure_transport')
    const opened = await ws({ 'x-api-key': t.apiKey, ...HTTPS })
    assert.equal(opened.status, 101)
    opened.ws?.close()
  })
})

describe('with no trusted proxy', () => {
  let t: TestServer
  before(async () => {
    t = await startTestServer({ insecureHttpBehindProxy: true, trustedProxies: [] })
  })
  after(() => t.close())

  test('X-Forwarded-Proto: https from an untrusted peer is not believed: 403 insecure_transport', async () => {
    const res = await call(t.url, '/voices', { headers: { ...bearer(t.apiKey), ...HTTPS } })
    assert.equal(res.status, 403)
    assert.equal(res.json.error_code, 'insecure_transport')
  })

  test('GET / still answers 200', async () => {
    assert.equal((await call(t.url, '/')).status, 200)
  })
})
