/**
 * A stream the local fallback serves in the upstream's stead is revoked like a local one (issue 25):
 * a fallback WebSocket gets `token_revoked` on every open context (labelled `fallback: "local"`)
 * and closes 4401; a fallback SSE stream ends with the `token_revoked` event (or is cut); a fallback
 * `/tts/bytes` answer is cut, never finished as if complete. (The STT fallback socket's revoke is in
 * fallback-stt-ws.test.ts.)
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { answerError, FakeHttpUpstream } from '../helpers/fake-http-upstream.ts'
import { bearer, call, mint } from '../helpers/http.ts'
import { closeQuietly, drainSlowly, openInbox, readSse, type SseEvent } from '../helpers/security.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'

/** Far slower than audio arrives: megabytes queue for the reader, so the stream is live at the revoke. */
const SLOW_READ_PAUSE_MS = 50
const LONG = 'Revocation must stop this stream at once. '.repeat(230).slice(0, 10_000)
let fake: FakeHttpUpstream
let gw: TestServer

before(async () => {
  fake = await FakeHttpUpstream.start()
  gw = await startTestServer({
    upstreamUrl: fake.url,
    upstreamApiKey: 'sk_car_upstream-secret-0123456789abcdef',
    upstreamFailureThreshold: 1000,
    fallback: 'local',
  })
  // Every request and every socket handshake the upstream gets is a 500: everything falls back.
  fake.handler = answerError(500, 'internal', 'boom')
})
after(async () => {
  await gw.close()
  await fake.close()
})

const body = (transcript: string, extra: Record<string, unknown> = {}) => ({
  model_id: 'sonic-3',
  transcript,
  voice: { mode: 'id', id: 'upstream-voice' },
  output_format: { container: 'raw', encoding: 'pcm_s16le', sample_rate: 16000 },
  ...extra,
})
const ttsToken = () => mint(gw.url, gw.apiKey, { grants: { tts: true }, expires_in: 600 })
const revoke = async (token: string) => {
  const res = await call(gw.url, '/access-token/revoke', { headers: bearer(gw.apiKey), body: { token } })
  assert.deepEqual([res.status, res.json], [200, { revoked: true }])
}

/** Polls `/access-token/self` until the token holds `n` open streams (so they are really open). */
async function openStreamsReach(token: string, n: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const res = await call(gw.url, '/access-token/self', { headers: bearer(token) })
    if (res.json.usage.open_streams === n) return
    await new Promise((r) => setTimeout(r, 20))
  }
  assert.fail(`open_streams never reached ${n}`)
}

test('a fallback WebSocket: token_revoked on every open context, labelled, then 4401', async () => {
  const token = await ttsToken()
  const inbox = await openInbox(gw.url, { query: `?access_token=${token}` })
  try {
    for (const id of ['ctx-a', 'ctx-b']) inbox.send({ ...body(''), context_id: id, continue: true })
    await openStreamsReach(token, 2)
    await revoke(token)
    assert.equal((await inbox.closed()).code, 4401)
    for (const id of ['ctx-a', 'ctx-b']) {
      const end = await inbox.terminal(id, 0)
      assert.deepEqual([end.type, end.error_code, end.fallback], ['error', 'token_revoked', 'local'])
    }
    assert.equal(fake.requests.filter((r) => r.url.startsWith('/tts/websocket')).length, 1)
  } finally {
    closeQuietly(inbox.ws)
  }
})

test('a fallback SSE stream read slowly ends with token_revoked (or is cut)', async () => {
  const token = await ttsToken()
  const res = await fetch(`${gw.url}/tts/sse`, {
    method: 'POST',
    headers: { ...bearer(token), 'content-type': 'application/json' },
    body: JSON.stringify(body(LONG)),
  })
  assert.deepEqual([res.status, res.headers.get('x-voxgate-fallback')], [200, 'local'])
  let firstEvent!: () => void
  const started = new Promise<void>((r) => {
    firstEvent = r
  })
  const reading = readSse(res.body!, { pauseMs: SLOW_READ_PAUSE_MS, onEvent: () => firstEvent() })
  await started
  await openStreamsReach(token, 1)
  await revoke(token)
  const { events, cut } = await reading
  if (cut === undefined) {
    const last = events.at(-1) as SseEvent
    assert.deepEqual([last.event, last.data.error_code, last.data.fallback], ['error', 'token_revoked', 'local'])
  }
  assert.ok(!events.some((e) => e.data?.type === 'done'), 'a revoked stream never reports done')
})

test('a fallback /tts/bytes answer read slowly is cut, never finished as if complete', async () => {
  const token = await ttsToken()
  // 48 kHz f32: ~18 MB of audio, far more than loopback buffers hold, so the answer is live at the revoke.
  const res = await fetch(`${gw.url}/tts/bytes`, {
    method: 'POST',
    headers: { ...bearer(token), 'content-type': 'application/json' },
    body: JSON.stringify(
      body(LONG, { output_format: { container: 'raw', encoding: 'pcm_f32le', sample_rate: 48000 } }),
    ),
  })
  assert.deepEqual([res.status, res.headers.get('x-voxgate-fallback')], [200, 'local'])
  let firstBytes!: () => void
  const started = new Promise<void>((r) => {
    firstBytes = r
  })
  const reading = drainSlowly(res.body!, SLOW_READ_PAUSE_MS, () => firstBytes())
  await started
  await openStreamsReach(token, 1)
  await revoke(token)
  const { bytes, cut } = await reading
  assert.ok(cut !== undefined, `the answer ended cleanly after ${bytes} bytes`)
})
