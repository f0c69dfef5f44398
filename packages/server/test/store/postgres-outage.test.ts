/**
 * PostgreSQL unreachable at run time (cut by an in-test TCP proxy; the machine's PostgreSQL is never
 * stopped): tokens and API keys already known keep verifying from memory; what needs the store
 * (minting, revoking, speech with a token, whose usage must be recorded durably) answers 503
 * `store_unavailable` with Retry-After, bounded in time; nothing crashes; all recovers when it returns.
 * Minting with a known key goes on: it needs only the signing key, which is in memory.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { bearer, call, mint } from '../helpers/http.ts'
import { PgProxy, testSchema } from '../helpers/postgres.ts'
import { ttsBody, voiceIds } from '../helpers/security.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { eventually } from '../helpers/controlled-speech.ts'

const schema = testSchema()
let proxy: PgProxy
let t: TestServer
let voice: string
before(async () => {
  proxy = await PgProxy.start()
  t = await startTestServer({ store: schema.url(proxy.url(), { connect_timeout: '1', query_timeout: '1500' }) })
  ;[voice] = (await voiceIds(t.url, t.apiKey, 1)) as [string]
})
after(async () => {
  await t.close()
  await proxy.sever()
  await schema.drop()
})

describe('PostgreSQL unreachable', () => {
  test('known credentials verify; store-bound requests get 503 store_unavailable; it recovers', async () => {
    const token = await mint(t.url, t.apiKey, { grants: { tts: true, voices: true }, expires_in: 600 })
    assert.equal((await call(t.url, '/voices?limit=1', { headers: bearer(token) })).status, 200)
    await proxy.sever()

    // Known token and known key: verified from memory.
    assert.equal((await call(t.url, '/voices?limit=1', { headers: bearer(token) })).status, 200)
    assert.equal((await call(t.url, '/voices?limit=1', { headers: bearer(t.apiKey) })).status, 200)
    // An API key speaks unmetered; a token's speech needs its usage recorded first.
    assert.equal(
      (await call(t.url, '/tts/bytes', { headers: bearer(t.apiKey), body: ttsBody(voice, 'Key.') })).status,
      200,
    )
    const minted = await call(t.url, '/access-token', { headers: bearer(t.apiKey), body: {} })
    assert.equal(minted.status, 200, 'minting with a known key needs no store')
    for (const [path, credential, body] of [
      ['/access-token/revoke', t.apiKey, { jti: 'tok_whatever' }],
      ['/tts/bytes', token, ttsBody(voice, 'Token.')],
    ] as const) {
      const res = await call(t.url, path, { headers: bearer(credential), body })
      assert.equal(res.status, 503, `${path}: ${res.text}`)
      assert.equal(res.json.error_code, 'store_unavailable')
      assert.equal(res.headers.get('retry-after'), '2')
      assert.ok(!res.text.includes('127.0.0.1'), 'no connection detail reaches the client')
    }
    // An unknown key cannot be checked: refused, never let in.
    const stranger = await call(t.url, '/voices?limit=1', { headers: bearer(`sk_vx_${'A'.repeat(43)}`) })
    assert.equal(stranger.status, 503)

    await proxy.restore()
    await eventually(
      async () =>
        (await call(t.url, '/access-token/revoke', { headers: bearer(t.apiKey), body: { jti: 'tok_whatever' } }))
          .status === 200,
      'revoking is back',
      15_000,
    )
    assert.equal(
      (await call(t.url, '/tts/bytes', { headers: bearer(token), body: ttsBody(voice, 'Back.') })).status,
      200,
    )
  })
})
