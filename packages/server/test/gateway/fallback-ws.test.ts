/**
 * `--fallback local` on /tts/websocket (issue 25, item 1): an upstream that refuses the socket (5xx,
 * 429, 401) or never answers the handshake: the client's socket opens all the same and is spoken
 * locally, every event `fallback: "local"`; the client's own 400 still refuses the handshake. An
 * upstream lost mid-way ends the open context with upstream_error, the client's socket stays open,
 * and the next context falls back.
 */
import { after, afterEach, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { FakeUpstream } from '../helpers/fake-upstream.ts'
import { bearer, call, mint } from '../helpers/http.ts'
import { rawRequest } from '../helpers/raw-request.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { startFallbackGateway } from '../helpers/fallback-gateway.ts'
import { handshake, wsUrl } from '../helpers/ws.ts'
import { WsSession } from '../helpers/ws-session.ts'
import { createVoiceCatalogue } from '../../src/tts/voices.ts'
import WebSocket from 'ws'

const UPSTREAM_KEY = 'sk_car_fake_upstream_key_do_not_leak_0123456789'
const MAPPED = createVoiceCatalogue().list({ limit: 2 }).data[1]!.id
const FORMAT = { container: 'raw', encoding: 'pcm_s16le', sample_rate: 16000 }
const TEXT = 'Hello from the fallback socket.'
const request = (context_id: string, voice = 'upstream-voice') => ({
  model_id: 'sonic-3',
  transcript: TEXT,
  voice: { mode: 'id', id: voice },
  output_format: FORMAT,
  context_id,
})

let fake: FakeUpstream
let gw: TestServer
let local: TestServer
let token: string

before(async () => {
  fake = await FakeUpstream.start()
  gw = await startFallbackGateway({ upstreamUrl: fake.url, upstreamApiKey: UPSTREAM_KEY, mappedVoice: MAPPED })
  local = await startTestServer()
  token = await mint(gw.url, gw.apiKey, { grants: { tts: true }, expires_in: 600, sub: 'ws-fb' })
})
afterEach(async () => {
  await fake.until(() => fake.open === 0)
  fake.mode = 'accept'
  fake.onMessage = undefined
})
after(async () => {
  await gw.close()
  await local.close()
  await fake.close()
})

/** The audio a local voxgate makes of TEXT with the mapped voice. */
async function localAudio(): Promise<Buffer> {
  const t = await mint(local.url, local.apiKey, { grants: { tts: true }, expires_in: 60 })
  const res = await rawRequest(local.url, '/tts/bytes', {
    headers: { 'content-type': 'application/json', ...bearer(t) },
    body: JSON.stringify(request('x', MAPPED)),
  })
  assert.equal(res.status, 200)
  return res.body
}

const audioOf = (events: any[]) =>
  Buffer.concat(events.filter((e) => e.type === 'chunk').map((e) => Buffer.from(e.data, 'base64')))

describe('the upstream refuses or ignores the handshake', () => {
  const refusals: [string, FakeUpstream['mode']][] = [
    ['500', { status: 500, body: '{"error_code":"internal","message":"boom"}' }],
    ['429', { status: 429, body: '{"error_code":"rate_limited","message":"slow"}' }],
    ['401', { status: 401, body: '{"error_code":"unauthorized","message":"bad key"}' }],
    ['no answer (timeout)', 'hang'],
  ]
  for (const [what, mode] of refusals) {
    test(`${what}: the socket opens and is spoken locally, every event labelled`, async () => {
      fake.mode = mode
      const s = await WsSession.open(wsUrl(gw.url), bearer(token))
      s.send(request('c1'))
      const end = await s.end('c1')
      assert.equal(end.type, 'done')
      for (const e of s.events) assert.equal(e.fallback, 'local', JSON.stringify(e))
      assert.deepEqual(audioOf(s.of('c1')), await localAudio())
      s.close()
      await s.closed()
    })
  }

  test('the fallback handshake says so: its 101 has X-Voxgate-Fallback: local; a relayed one has none', async () => {
    const label = (url: string) =>
      new Promise<unknown>((resolve) => {
        let header: unknown
        const ws = new WebSocket(url, { headers: bearer(token) })
        ws.once('upgrade', (res) => (header = res.headers['x-voxgate-fallback']))
        ws.once('open', () => ws.close())
        ws.once('close', () => resolve(header))
      })
    fake.mode = { status: 503, body: '{}' }
    assert.equal(await label(wsUrl(gw.url)), 'local')
    fake.mode = 'accept'
    assert.equal(await label(wsUrl(gw.url)), undefined)
  })

  test("the client's own 400: the handshake is refused as before, no fallback", async () => {
    fake.mode = { status: 400, body: '{"error_code":"bad_request","message":"bad query"}' }
    const h = await handshake(wsUrl(gw.url), bearer(token))
    assert.equal(h.status, 400)
    assert.equal(JSON.parse(h.body).error_code, 'bad_request')
  })

  test('a voice the token may not use is refused by its upstream id, before it is mapped', async () => {
    fake.mode = { status: 503, body: '{}' }
    const limited = await mint(gw.url, gw.apiKey, {
      grants: { tts: true },
      expires_in: 60,
      limits: { voices: ['other-upstream-voice'] },
    })
    const s = await WsSession.open(wsUrl(gw.url), bearer(limited))
    s.send(request('c2'))
    const end = await s.end('c2')
    assert.equal(end.error_code, 'voice_not_allowed')
    s.close()
    await s.closed()
  })
})

describe('the upstream lost mid-way', () => {
  test('the open context ends with upstream_error, the socket stays open, the next context falls back', async () => {
    // The upstream takes the first context and then drops the socket without answering it.
    fake.onMessage = (conn) => conn.ws.terminate()
    fake.mode = 'accept'
    const s = await WsSession.open(wsUrl(gw.url), bearer(token))
    s.send(request('first'))
    const lost = await s.end('first')
    assert.equal(lost.type, 'error')
    assert.equal(lost.error_code, 'upstream_error')
    assert.equal(lost.fallback, undefined, 'the relayed context was not spoken locally')
    // The upstream is refusing now: the next context is spoken locally on the same socket.
    fake.mode = { status: 503, body: '{}' }
    s.send(request('second'))
    const end = await s.end('second')
    assert.equal(end.type, 'done')
    for (const e of s.of('second')) assert.equal(e.fallback, 'local')
    assert.deepEqual(audioOf(s.of('second')), await localAudio())
    assert.equal(s.closeCode, undefined, 'the socket stayed open')
    s.close()
    await s.closed()
    // The ledger row lands as the socket's contexts settle: read until it has.
    const fallbackChars = async () =>
      (await call(gw.url, '/usage?sub=ws-fb&group_by=sub', { headers: bearer(gw.apiKey) })).json.totals
        .characters_fallback
    let counted = await fallbackChars()
    for (let i = 0; i < 50 && counted < 5 * TEXT.length; i++) counted = await fallbackChars()
    // The four refused handshakes' contexts above and this one's second: each TEXT, all spoken locally.
    assert.equal(counted, 5 * TEXT.length)
  })
})
