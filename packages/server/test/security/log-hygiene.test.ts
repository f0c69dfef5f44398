/**
 * Logs carry ids (request id, key id, `sub`), never credentials: many paths are exercised with
 * distinctive secrets in every carrier and in bodies, then the captured log lines are searched.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { decodeJwt } from 'jose'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { bearer, call, mint } from '../helpers/http.ts'
import { handshake, wsUrl } from '../helpers/ws.ts'
import { closeQuietly, openInbox, sleep, ttsBody, voiceIds } from '../helpers/security.ts'

const APP = 'https://app.example'
let t: TestServer
let voice: string
let token: string
let revokedToken: string
const SUB = 'log-user-7'
/** Values that must never be logged. */
const secrets: string[] = []
const responseIds: { id: string; kind: 'token' | 'api_key' | 'none' }[] = []

before(async () => {
  t = await startTestServer({ tokenCookieName: 'vx_token', allowedOrigins: [APP] })
  ;[voice] = (await voiceIds(t.url, t.apiKey, 1)) as [string]
  token = await mint(t.url, t.apiKey, { grants: { tts: true, voices: true }, expires_in: 600, sub: SUB })
  revokedToken = await mint(t.url, t.apiKey, { grants: { tts: true }, expires_in: 600, sub: SUB })
  secrets.push(t.apiKey, token, revokedToken)
})
after(() => t.close())

async function req(path: string, init: Parameters<typeof call>[2] = {}, kind: 'token' | 'api_key' | 'none' = 'none') {
  const res = await call(t.url, path, init)
  responseIds.push({ id: res.headers.get('x-request-id') ?? '', kind })
  return res
}

describe('exercise every path with secrets in play', () => {
  test('successes with a key and a token', async () => {
    assert.equal(
      (await req('/access-token', { headers: bearer(t.apiKey), body: { grants: { tts: true }, sub: SUB } }, 'api_key'))
        .status,
      200,
    )
    assert.equal((await req('/voices', { headers: bearer(token) }, 'token')).status, 200)
    assert.equal(
      (
        await req(
          '/tts/bytes',
          { headers: { 'x-api-key': t.apiKey }, body: ttsBody(voice, 'Logged by id only.') },
          'api_key',
        )
      ).status,
      200,
    )
    assert.equal(
      (await req('/tts/sse', { headers: bearer(token), body: ttsBody(voice, 'Logged by id only.') }, 'token')).status,
      200,
    )
    assert.equal((await req('/access-token/self', { headers: bearer(token) }, 'token')).status, 200)
  })

  test('401s with forged keys and tokens', async () => {
    const fakeKey = 'sk_vx_FAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKE123'
    const fakeJwt = `${token.split('.').slice(0, 2).join('.')}.c2lnbmF0dXJlLXRoYXQtaXMtbm90LXZhbGlkLWF0LWFsbA`
    secrets.push(fakeKey, fakeJwt)
    for (const headers of [
      bearer(fakeKey),
      { 'x-api-key': fakeKey },
      bearer(fakeJwt),
      { authorization: `Basic ${Buffer.from(`u:${t.apiKey}`).toString('base64')}` },
    ]) {
      assert.equal((await req('/voices', { headers })).status, 401)
    }
    assert.equal(
      (await call(t.url, '/access-token/revoke', { headers: bearer(t.apiKey), body: { token: revokedToken } })).status,
      200,
    )
    assert.equal((await req('/tts/bytes', { headers: bearer(revokedToken), body: ttsBody(voice, 'x') })).status, 401)
  })

  test('400s with credentials inside request bodies', async () => {
    const key = bearer(t.apiKey)
    assert.equal(
      (await req('/access-token', { headers: key, body: { api_key: t.apiKey, token } }, 'api_key')).status,
      400,
    )
    assert.equal(
      (await req('/access-token', { headers: key, body: { grants: { tts: true }, sub: token } }, 'api_key')).status,
      400,
    )
    assert.equal(
      (await req('/access-token', { headers: key, body: `{"broken": "${t.apiKey}"` }, 'api_key')).status,
      400,
    )
    assert.equal(
      (await req('/access-token', { headers: { ...key, 'content-type': 'text/plain' }, body: t.apiKey }, 'api_key'))
        .status,
      415,
    )
    assert.equal(
      (await req('/access-token/revoke', { headers: key, body: { token: `${token}x` } }, 'api_key')).status,
      400,
    )
    assert.equal(
      (
        await req(
          '/tts/bytes',
          { headers: bearer(token), body: { ...ttsBody(voice, token), model_id: t.apiKey } },
          'token',
        )
      ).status,
      400,
    )
    assert.equal((await req(`/voices?api_key=${t.apiKey}`, {})).status, 400)
    assert.equal((await req(`/voices?access_token=${token}`, { headers: bearer(token) })).status, 400)
  })

  test('WebSockets with ?access_token=, ?api_key=, refresh_token and refused handshakes', async () => {
    for (const query of [`?access_token=${token}`, `?api_key=${t.apiKey}`]) {
      const inbox = await openInbox(t.url, { query })
      inbox.send({ type: 'refresh_token', access_token: token })
      inbox.send({ type: 'refresh_token', access_token: revokedToken })
      inbox.send({ ...ttsBody(voice, 'Socket speech.'), context_id: 'c' })
      await inbox.terminal('c')
      inbox.send(`not json ${t.apiKey}`)
      await inbox.message((m) => m.type === 'error' && m.context_id === undefined && /JSON/.test(m.message))
      closeQuietly(inbox.ws)
    }
    assert.equal((await handshake(wsUrl(t.url, `?access_token=${revokedToken}`))).status, 401)
    assert.equal((await handshake(wsUrl(t.url, `?api_key=sk_vx_${'Z'.repeat(43)}`))).status, 401)
    secrets.push(`sk_vx_${'Z'.repeat(43)}`)
  })

  test('cookie mode, allowed and refused', async () => {
    const cookie = { cookie: `vx_token=${token}` }
    assert.equal((await req('/voices', { headers: { ...cookie, origin: APP } }, 'token')).status, 200)
    assert.equal((await req('/voices', { headers: { ...cookie, origin: 'https://evil.example' } })).status, 403)
    const h = await handshake(wsUrl(t.url), { ...cookie, origin: APP })
    assert.equal(h.status, 101)
    h.ws?.close()
    await sleep(50)
  })
})

describe('the logs', () => {
  const lines = () => t.logs.lines.map((l) => JSON.parse(l) as Record<string, unknown>)

  test('are JSON lines', () => {
    assert.ok(t.logs.lines.length > 10)
    for (const l of t.logs.lines) assert.doesNotThrow(() => JSON.parse(l), l.slice(0, 200))
  })

  test('contain no token, key or cookie value, nor any JWT signature', () => {
    const logs = t.logs.text()
    const needles = secrets
      .flatMap((s) => [s, ...(s.split('.').length === 3 ? [s.split('.')[2]!] : [])])
      .filter((s) => s.length >= 16)
    const leaked = needles.filter((s) => logs.includes(s))
    assert.deepEqual(
      leaked.map((s) => `${s.slice(0, 20)}…`),
      [],
    )
    assert.ok(!/sk_vx_[A-Za-z0-9_-]{20,}/.test(logs), 'no API-key-shaped value')
    assert.ok(!/eyJ[\w-]{10,}\.eyJ[\w-]{10,}\.[\w-]{20,}/.test(logs), 'no JWT-shaped value')
  })

  test('every request line has its request id (the X-Request-Id sent back), the key id, and sub for token requests', () => {
    const byId = new Map(
      lines()
        .filter((l) => l.msg === 'request')
        .map((l) => [l.reqId, l]),
    )
    const keyId = t.apiKeyId
    for (const r of responseIds) {
      const line = byId.get(r.id)
      assert.ok(line, `a request line for ${r.id}`)
      if (r.kind === 'token') {
        assert.equal(line.key_id, keyId)
        assert.equal(line.sub, SUB)
      }
      if (r.kind === 'api_key') {
        assert.equal(line.key_id, keyId)
        assert.equal(line.sub, undefined)
      }
    }
    assert.equal(decodeJwt(token).sub, SUB)
  })

  test('the websocket open lines carry key id, sub and a request id', () => {
    const opens = lines().filter((l) => l.msg === 'websocket open')
    assert.ok(opens.length >= 3)
    for (const l of opens) {
      assert.equal(l.key_id, t.apiKeyId)
      assert.match(String(l.reqId), /^[0-9a-f-]{36}$/, `websocket open line without a request id: ${JSON.stringify(l)}`)
    }
    assert.ok(opens.some((l) => l.sub === SUB))
  })
})
