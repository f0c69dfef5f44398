/**
 * STT sockets in gateway mode against a recording fake upstream (a gateway needs no local recogniser):
 * `/stt/websocket` and `/stt/turns/websocket` relay audio frames and commands up and events down;
 * `limits.audio_seconds` is metered on the audio forwarded and nothing past it leaves; a revoke ends
 * the relayed socket (token_revoked, 4401) and closes the upstream's; a drop is an error and 1011.
 */
import { after, afterEach, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { FakeUpstream } from '../helpers/fake-upstream.ts'
import { bearer, call, mint } from '../helpers/http.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { openStt, refusedHandshake, sendAudio } from '../stt/helpers.ts'

const UPSTREAM_KEY = 'sk_car_fake_stt_upstream_key_0123456789'
const Q = 'model=ink-2&encoding=pcm_s16le&sample_rate=16000&language=fr'
/** 100 ms of 16 kHz pcm_s16le. */
const FRAME = 3200
let fake: FakeUpstream
let gw: TestServer

before(async () => {
  fake = await FakeUpstream.start()
  gw = await startTestServer({ upstreamUrl: fake.url, upstreamApiKey: UPSTREAM_KEY })
})
afterEach(async () => {
  await fake.until(() => fake.open === 0)
  fake.onMessage = undefined
  fake.greeting = undefined
})
after(async () => {
  assert.ok(!gw.logs.text().includes(UPSTREAM_KEY))
  await gw.close()
  await fake.close()
})

const sttToken = (extra: Record<string, unknown> = {}) =>
  mint(gw.url, gw.apiKey, { grants: { stt: true }, expires_in: 600, ...extra })
const lastConnection = () => fake.connections.at(-1)!
const audioSent = (conn: { messages: any[] }) => conn.messages.reduce((n, m) => n + (m.binary ?? 0), 0)

describe('STT sockets through the gateway', () => {
  test("/stt/websocket: audio and commands go up as sent (the upstream's key, no client credential), events come back, close 1000 follows the upstream's", async () => {
    const token = await sttToken()
    const s = openStt(gw.url, '/stt/websocket', `${Q}&access_token=${token}`, { cookie: 'a=b' })
    await s.opened
    const conn = lastConnection()
    assert.equal(conn.headers['x-api-key'], UPSTREAM_KEY)
    for (const name of ['authorization', 'cookie', 'origin']) assert.equal(conn.headers[name], undefined, name)
    const url = new URL(conn.url, 'http://upstream')
    assert.equal(url.pathname, '/stt/websocket')
    assert.equal(url.searchParams.get('access_token'), null)
    assert.equal(url.searchParams.get('language'), 'fr', 'the upstream judges languages and models')
    sendAudio(s.ws, new Uint8Array(FRAME * 5), FRAME)
    s.ws.send('finalize')
    const final = await s.next('transcript')
    assert.deepEqual([final.text, final.is_final], ['hello world', true])
    await s.next('flush_done')
    s.ws.send('close')
    await s.next('done')
    assert.equal((await s.closed).code, 1000)
    assert.deepEqual(
      conn.messages.map((m) => m.text ?? m.binary),
      [FRAME, FRAME, FRAME, FRAME, FRAME, 'finalize', 'close'],
    )
    const self = await call(gw.url, '/access-token/self', { headers: bearer(token) })
    assert.equal(self.json.usage.audio_seconds, 0.5)
  })

  test("/stt/turns/websocket is relayed the same way (JSON commands, the upstream's events, `connected` sent the moment it opens)", async () => {
    fake.greeting = { type: 'connected', request_id: 'up-2' }
    fake.onMessage = (c, msg) => {
      if (msg.type === 'close') c.ws.close(1000)
      else if (msg.binary) c.ws.send(JSON.stringify({ type: 'turn.start', request_id: 'up-2' }))
    }
    const s = openStt(gw.url, '/stt/turns/websocket', Q, bearer(await sttToken()))
    await s.opened
    assert.equal(new URL(lastConnection().url, 'http://upstream').pathname, '/stt/turns/websocket')
    assert.equal((await s.next('connected')).request_id, 'up-2')
    s.ws.send(new Uint8Array(FRAME))
    await s.next('turn.start')
    s.ws.send(JSON.stringify({ type: 'close' }))
    assert.equal((await s.closed).code, 1000)
  })

  test('/stt/websocket commands go up as voxgate read them: a JSON-encoded one as the bare word; an unknown one gets the local error and never leaves', async () => {
    fake.onMessage = () => undefined
    const s = openStt(gw.url, '/stt/websocket', Q, bearer(await sttToken()))
    await s.opened
    const conn = lastConnection()
    try {
      s.ws.send(' "finalize" ')
      s.ws.send('finalize now please')
      s.ws.send('{"type":"close","type":"finalize"}')
      s.ws.send('close')
      await fake.until(() => conn.texts.length >= 2)
      assert.deepEqual(conn.texts, ['finalize', 'close'])
      const errors = [await s.next('error'), await s.next('error')]
      assert.deepEqual(
        errors.map((e) => e.error_code),
        ['invalid_request', 'invalid_request'],
      )
    } finally {
      s.ws.close()
    }
  })

  test('/stt/turns/websocket: a command goes up re-serialized; one with a key twice gets an error naming it and never leaves', async () => {
    fake.onMessage = () => undefined
    const s = openStt(gw.url, '/stt/turns/websocket', Q, bearer(await sttToken()))
    await s.opened
    const conn = lastConnection()
    try {
      s.ws.send('{"type":"config","turn":{"end_threshold":0.2,"end_threshold":0.5}}')
      s.ws.send('{ "type" : "config", "turn" : { "end_threshold" : 0.3 } }')
      s.ws.send('{"type":"shout"}')
      s.ws.send('{"type":"close"}')
      await fake.until(() => conn.texts.length >= 2)
      assert.deepEqual(conn.texts, ['{"type":"config","turn":{"end_threshold":0.3}}', '{"type":"close"}'])
      const errors = [await s.next('error'), await s.next('error')]
      assert.deepEqual(
        errors.map((e) => e.error_code),
        ['invalid_request', 'invalid_request'],
      )
      assert.match(errors[0].message, /"end_threshold" twice/)
    } finally {
      s.ws.close()
    }
  })

  test('limits.audio_seconds: the frame that crosses it gets quota_exceeded and 1008 and never leaves; a spent token is refused 429 at the handshake', async () => {
    fake.onMessage = () => undefined
    const token = await sttToken({ limits: { audio_seconds: 1 } })
    const s = openStt(gw.url, '/stt/websocket', Q, bearer(token))
    await s.opened
    const conn = lastConnection()
    sendAudio(s.ws, new Uint8Array(FRAME * 15), FRAME)
    const err = await s.next('error')
    assert.deepEqual([err.error_code, err.status_code], ['quota_exceeded', 429])
    assert.equal((await s.closed).code, 1008)
    await conn.closed
    assert.equal(audioSent(conn), FRAME * 10, 'exactly the budgeted second went upstream')
    const self = await call(gw.url, '/access-token/self', { headers: bearer(token) })
    assert.equal(self.json.usage.audio_seconds, 1)
    const before = fake.connections.length
    const spent = await refusedHandshake(gw.url, `/stt/websocket?${Q}`, bearer(token))
    assert.deepEqual([spent.status, spent.body.error_code], [429, 'quota_exceeded'])
    assert.equal(fake.connections.length, before, 'a refused handshake never reaches the upstream')
  })

  test('limits.concurrent_streams: a second socket is refused 429 at the handshake and never reaches the upstream', async () => {
    fake.onMessage = () => undefined
    const token = await sttToken({ limits: { concurrent_streams: 1 } })
    const s = openStt(gw.url, '/stt/websocket', Q, bearer(token))
    await s.opened
    const before = fake.connections.length
    const second = await refusedHandshake(gw.url, `/stt/websocket?${Q}`, bearer(token))
    assert.deepEqual([second.status, second.body.error_code], [429, 'concurrency_limited'])
    assert.equal(fake.connections.length, before)
    s.ws.close()
  })

  test("a revoke ends a relayed STT socket within 1 s (token_revoked, then 4401) and closes the upstream's", async () => {
    fake.onMessage = () => undefined
    const token = await sttToken()
    const s = openStt(gw.url, '/stt/websocket', Q, bearer(token))
    await s.opened
    const conn = lastConnection()
    const t0 = performance.now()
    assert.equal(
      (await call(gw.url, '/access-token/revoke', { headers: bearer(gw.apiKey), body: { token } })).status,
      200,
    )
    assert.equal((await s.closed).code, 4401)
    const elapsed = performance.now() - t0
    assert.ok(elapsed < 1000, `closed ${Math.round(elapsed)} ms after the revoke call`)
    assert.equal(s.events.find((e) => e.type === 'error')?.error_code, 'token_revoked')
    await conn.closed
  })

  test('an upstream that drops the socket: an upstream_error event, then 1011', async () => {
    fake.onMessage = (c) => c.ws.terminate()
    const s = openStt(gw.url, '/stt/websocket', Q, bearer(await sttToken()))
    await s.opened
    s.ws.send(new Uint8Array(FRAME))
    assert.equal((await s.closed).code, 1011)
    assert.equal(s.events.find((e) => e.type === 'error')?.error_code, 'upstream_error')
  })

  test("an upstream that refuses the socket: the client's handshake is refused 502", async () => {
    fake.mode = { status: 500, body: 'boom' }
    try {
      const refused = await refusedHandshake(gw.url, `/stt/websocket?${Q}`, bearer(await sttToken()))
      assert.deepEqual([refused.status, refused.body.error_code], [502, 'upstream_error'])
    } finally {
      fake.mode = 'accept'
    }
  })
})
