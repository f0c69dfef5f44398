import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createKey } from '../../src/keys/create-key.ts'
import type { TestServer } from '../helpers/server.ts'
import { bearer, call, mint } from '../helpers/http.ts'
import { startSpeechServer, raw } from '../helpers/speech.ts'
import { wsUrl } from '../helpers/ws.ts'
import { WsSession } from '../helpers/ws-session.ts'

let t: TestServer
let voice: string
before(async () => ({ t, voice } = await startSpeechServer()))
after(() => t.close())

const openStreams = async (token: string) =>
  (await call(t.url, '/access-token/self', { headers: bearer(token) })).json.usage.open_streams
const gen = (context_id: string, transcript: string, extra: object = {}) => ({
  model_id: 'sonic-3',
  voice,
  output_format: raw('pcm_s16le', 16000),
  context_id,
  transcript,
  ...extra,
})
const limited = (n: number) => mint(t.url, t.apiKey, { grants: { tts: true }, limits: { concurrent_streams: n } })

describe('in-band refresh_token and stream slots', () => {
  test("open contexts move to the fresh token: the old token's slots are freed", async () => {
    const [oldToken, freshToken] = [await limited(2), await limited(2)]
    const s = await WsSession.open(wsUrl(t.url), { authorization: `Bearer ${oldToken}` })
    s.send(gen('a', 'waiting', { continue: true }))
    s.send(gen('b', 'waiting', { continue: true }))
    s.send({ type: 'refresh_token', access_token: freshToken })
    await s.next((e) => e.type === 'token_refreshed')
    assert.equal(await openStreams(oldToken), 0)
    assert.equal(await openStreams(freshToken), 2)
    s.send({ context_id: 'a', cancel: true })
    await s.end('a')
    assert.equal(await openStreams(freshToken), 1)
    s.close()
  })

  test('a context the fresh token has no room for ends with concurrency_limited; the rest go on', async () => {
    const [oldToken, freshToken] = [await limited(2), await limited(1)]
    const s = await WsSession.open(wsUrl(t.url), { authorization: `Bearer ${oldToken}` })
    s.send(gen('x', 'waiting', { continue: true }))
    s.send(gen('y', 'waiting', { continue: true }))
    s.send({ type: 'refresh_token', access_token: freshToken })
    await s.next((e) => e.type === 'token_refreshed')
    const ends = s.events.filter((e) => e.done === true)
    assert.equal(ends.length, 1)
    assert.equal(ends[0].error_code, 'concurrency_limited')
    assert.equal(await openStreams(oldToken), 0)
    assert.equal(await openStreams(freshToken), 1)
    s.close()
  })
})

describe('a socket belongs to one identity for its life (key id and sub)', () => {
  const forSub = (sub: string, extra: object = {}) => mint(t.url, t.apiKey, { grants: { tts: true }, sub, ...extra })

  test("a fresh token for another sub is refused with identity_mismatch; the original sub's revocation still closes the socket", async () => {
    const s = await WsSession.open(wsUrl(t.url), { authorization: `Bearer ${await forSub('alice')}` })
    s.send({ type: 'refresh_token', access_token: await forSub('mallory') })
    const refused = await s.next((e) => e.type === 'error')
    assert.equal(refused.error_code, 'identity_mismatch')
    assert.equal(
      s.events.some((e) => e.type === 'token_refreshed'),
      false,
    )
    const revoke = await call(t.url, '/access-token/revoke', {
      headers: bearer(t.apiKey),
      body: { sub: 'alice', issued_before: Math.floor(Date.now() / 1000) + 1 },
    })
    assert.equal(revoke.status, 200)
    assert.equal(await s.closed(), 4401)
  })

  test('a fresh token minted by another API key is refused with identity_mismatch', async () => {
    const key = await createKey(t.server.ctx.store, 'other', Date.now())
    const s = await WsSession.open(wsUrl(t.url), { authorization: `Bearer ${await forSub('erin')}` })
    s.send({ type: 'refresh_token', access_token: await mint(t.url, key.key, { grants: { tts: true }, sub: 'erin' }) })
    assert.equal((await s.next((e) => e.type === 'error')).error_code, 'identity_mismatch')
    // The socket is still on its first token and still speaks.
    s.send(gen('after', 'Still here.'))
    assert.equal((await s.end('after')).type, 'done')
    s.close()
  })

  test('the same identity refreshes as before', async () => {
    const s = await WsSession.open(wsUrl(t.url), { authorization: `Bearer ${await forSub('bob')}` })
    s.send({ type: 'refresh_token', access_token: await forSub('bob') })
    assert.equal(typeof (await s.next((e) => e.type === 'token_refreshed')).expires_at, 'number')
    s.close()
  })

  test('refreshing with the very token the socket holds keeps its slots counted once', async () => {
    const token = await limited(1)
    const s = await WsSession.open(wsUrl(t.url), { authorization: `Bearer ${token}` })
    s.send(gen('only', 'waiting', { continue: true }))
    s.send({ type: 'refresh_token', access_token: token })
    await s.next((e) => e.type === 'token_refreshed')
    assert.equal(
      s.of('only').some((e) => e.done === true),
      false,
    )
    assert.equal(await openStreams(token), 1)
    s.close()
  })

  test('open contexts speaking a voice the fresh token excludes end with voice_not_allowed; the others go on', async () => {
    const voices = await (await call(t.url, '/voices?limit=2', { headers: bearer(t.apiKey) })).json.data.map(
      (v: { id: string }) => v.id,
    )
    const [kept, dropped] = voices as [string, string]
    const s = await WsSession.open(wsUrl(t.url), { authorization: `Bearer ${await forSub('carol')}` })
    s.send({ ...gen('keep', 'waiting', { continue: true }), voice: kept })
    s.send({ ...gen('drop', 'waiting', { continue: true }), voice: dropped })
    s.send({ type: 'refresh_token', access_token: await forSub('carol', { limits: { voices: [kept] } }) })
    await s.next((e) => e.type === 'token_refreshed')
    assert.equal((await s.end('drop')).error_code, 'voice_not_allowed')
    s.send({ ...gen('keep', ' and done.'), voice: kept })
    assert.equal((await s.end('keep')).type, 'done')
    assert.equal(s.of('drop').filter((e) => e.done === true).length, 1)
    s.close()
  })

  test('a fresh token with fewer concurrent streams ends the newest contexts first', async () => {
    const s = await WsSession.open(wsUrl(t.url), {
      authorization: `Bearer ${await forSub('dave', { limits: { concurrent_streams: 3 } })}`,
    })
    for (const id of ['first', 'second', 'third']) s.send(gen(id, 'waiting', { continue: true }))
    s.send({ type: 'refresh_token', access_token: await forSub('dave', { limits: { concurrent_streams: 1 } }) })
    await s.next((e) => e.type === 'token_refreshed')
    assert.equal((await s.end('second')).error_code, 'concurrency_limited')
    assert.equal((await s.end('third')).error_code, 'concurrency_limited')
    assert.equal(
      s.of('first').some((e) => e.done === true),
      false,
    )
    s.close()
  })
})
