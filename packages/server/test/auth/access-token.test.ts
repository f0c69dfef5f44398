import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { decodeJwt, decodeProtectedHeader } from 'jose'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { bearer, call, mint } from '../helpers/http.ts'

let t: TestServer
before(async () => {
  t = await startTestServer()
})
after(() => t.close())

function assertError(res: Awaited<ReturnType<typeof call>>, status: number, code: string): void {
  assert.equal(res.status, status, res.text)
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/)
  assert.equal(res.json.error_code, code)
  assert.equal(typeof res.json.title, 'string')
  assert.equal(typeof res.json.message, 'string')
  assert.match(res.json.request_id, /^[0-9a-f-]{36}$/)
}

describe('POST /access-token', () => {
  test('mints an EdDSA JWT with the documented claims', async () => {
    const res = await call(t.url, '/access-token', {
      headers: bearer(t.apiKey),
      body: { grants: { tts: true }, expires_in: 60 },
    })
    assert.equal(res.status, 200)
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/)
    assert.deepEqual(Object.keys(res.json), ['token'])
    const header = decodeProtectedHeader(res.json.token)
    assert.equal(header.alg, 'EdDSA')
    assert.equal(typeof header.kid, 'string')
    const claims = decodeJwt(res.json.token)
    assert.equal(claims.iss, 'voxgate')
    assert.equal(claims.aud, 'voxgate')
    assert.equal(claims.exp! - claims.iat!, 60)
    assert.equal(typeof claims.jti, 'string')
    assert.deepEqual(claims.grants, { tts: true })
    assert.equal(claims.key_id, t.apiKeyId)
  })

  test('X-API-Key works too, with any header-name case', async () => {
    const res = await call(t.url, '/access-token', { headers: { 'X-Api-KEY': t.apiKey }, body: {} })
    assert.equal(res.status, 200)
    const claims = decodeJwt(res.json.token)
    assert.equal(claims.exp! - claims.iat!, 60, 'default lifetime is 60 s')
    assert.deepEqual(claims.grants, { tts: true }, 'omitted grants mean tts')
  })

  test('expires_in bounds: 1 and 3600 pass, 0, 3601 and 1.5 are 400', async () => {
    for (const ok of [1, 3600])
      assert.equal(
        (await call(t.url, '/access-token', { headers: bearer(t.apiKey), body: { expires_in: ok } })).status,
        200,
      )
    for (const bad of [0, 3601, 1.5, '60', -1]) {
      assertError(
        await call(t.url, '/access-token', { headers: bearer(t.apiKey), body: { expires_in: bad } }),
        400,
        'invalid_request',
      )
    }
  })

  test('bad bodies are 400 invalid_request', async () => {
    const bodies = [
      '{not json',
      '[]',
      '"x"',
      JSON.stringify({ grants: { listen: true } }),
      JSON.stringify({ grants: { tts: 'yes' } }),
      JSON.stringify({ surprise: 1 }),
    ]
    for (const body of bodies)
      assertError(await call(t.url, '/access-token', { headers: bearer(t.apiKey), body }), 400, 'invalid_request')
  })

  test('a body that is not JSON is 415', async () => {
    const res = await call(t.url, '/access-token', {
      headers: { ...bearer(t.apiKey), 'content-type': 'text/plain' },
      body: 'grants',
    })
    assertError(res, 415, 'unsupported_media_type')
  })

  test('missing or unknown key is 401 with WWW-Authenticate, and never echoes the credential', async () => {
    const missing = await call(t.url, '/access-token', { body: {} })
    assertError(missing, 401, 'missing_credentials')
    assert.equal(missing.headers.get('www-authenticate'), 'Bearer error="invalid_token"')
    const forged = `sk_vx_${'A'.repeat(43)}`
    const bad = await call(t.url, '/access-token', { headers: bearer(forged), body: {} })
    assertError(bad, 401, 'invalid_credentials')
    assert.ok(!bad.text.includes(forged))
    assertError(
      await call(t.url, '/access-token', { headers: { authorization: 'Basic abc' }, body: {} }),
      401,
      'invalid_credentials',
    )
  })

  test('authentication runs before body validation', async () => {
    assertError(await call(t.url, '/access-token', { body: '{not json' }), 401, 'missing_credentials')
  })

  test('an access token cannot mint a token', async () => {
    const token = await mint(t.url, t.apiKey, { grants: { tts: true, voices: true } })
    const res = await call(t.url, '/access-token', { headers: bearer(token), body: {} })
    assertError(res, 403, 'api_key_required')
    assert.equal(res.headers.get('www-authenticate'), 'Bearer error="insufficient_scope"')
    assert.ok(!res.text.includes(token))
  })

  test('an API key in the query string is refused on HTTP routes', async () => {
    assertError(await call(t.url, `/access-token?api_key=${t.apiKey}`, { body: {} }), 400, 'credential_in_query')
  })

  test('GET / answers ok and the JWKS publishes the signing key', async () => {
    const status = await call(t.url, '/')
    assert.deepEqual(status.json, { ok: true, version: '2026-08-14' })
    const jwks = await call(t.url, '/.well-known/jwks.json')
    assert.equal(jwks.status, 200)
    const token = await mint(t.url, t.apiKey)
    const kid = decodeProtectedHeader(token).kid
    const key = jwks.json.keys.find((k: { kid: string }) => k.kid === kid)
    assert.equal(key.kty, 'OKP')
    assert.equal(key.crv, 'Ed25519')
    assert.equal(key.d, undefined, 'no private part')
  })
})
