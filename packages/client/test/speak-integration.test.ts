import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import WebSocket from 'ws'
import { startTestServer, type TestServer } from '../../server/test/helpers/server.ts'
import { call, bearer } from '../../server/test/helpers/http.ts'
import {
  TokenSource,
  VoxgateClient,
  type SpeakRequest,
  type Transport,
  type WebSocketConstructor,
} from '../src/index.ts'
import { startAppBackend, type AppBackend } from './helpers/app-backend.ts'

/** Counts sockets opened and in-band refreshes sent, around the real `ws` class. */
const counts = { sockets: 0, refreshes: 0 }
class CountingWebSocket extends WebSocket {
  constructor(url: string) {
    super(url)
    counts.sockets++
  }
  override send(data: any, ...rest: any[]): void {
    if (typeof data === 'string' && data.includes('"refresh_token"')) counts.refreshes++
    ;(super.send as (...a: unknown[]) => void)(data, ...rest)
  }
}

let server: TestServer
let backend: AppBackend
let tokens: TokenSource
let client: VoxgateClient
let voice: string

before(async () => {
  // No clock tolerance and no socket grace: an expired token is refused at once, so these tests
  // prove the client refreshes in time rather than riding on the server's leniency.
  // The refresh tests speak in a loop until enough tokens went by: how many requests that takes depends
  // on the machine's speed, so the per-key stream rate limit (tested elsewhere) is off here.
  server = await startTestServer({ clockToleranceSeconds: 0, wsSessionGraceMs: 0, ttsStreamsPerMinute: 0 })
  backend = await startAppBackend(server.url, server.apiKey, { grants: { tts: true, voices: true }, expires_in: 3 })
  tokens = new TokenSource({ endpoint: backend.url })
  client = new VoxgateClient({
    baseUrl: server.url,
    tokens,
    WebSocket: CountingWebSocket as unknown as WebSocketConstructor,
  })
  for await (const v of client.voices.list({ limit: 2 })) {
    voice = v.id
    break
  }
  assert.ok(voice, 'the catalogue has a voice')
})

after(async () => {
  client.close()
  tokens.close()
  await backend.close()
  await server.close()
})

const request = (transcript: string, encoding: 'pcm_f32le' | 'pcm_s16le' = 'pcm_s16le'): SpeakRequest => ({
  model_id: 'sonic-3',
  voice,
  transcript,
  output_format: { container: 'raw', encoding, sample_rate: 24000 },
})

async function speakOnce(transport: Transport, text: string, encoding: 'pcm_f32le' | 'pcm_s16le' = 'pcm_s16le') {
  let samples = 0
  let chunks = 0
  for await (const c of client.speak(request(text, encoding), { transport })) {
    assert.equal(c.transport, transport)
    assert.equal(c.audio.byteLength, c.samples * (encoding === 'pcm_f32le' ? 4 : 2))
    samples += c.samples
    chunks++
  }
  return { samples, chunks }
}

for (const transport of ['bytes', 'sse', 'websocket'] as const) {
  test(`${transport}: speaks across several token refreshes (3 s tokens)`, async () => {
    const start = backend.minted.length
    let rounds = 0
    while (backend.minted.length < start + 4) {
      const { samples, chunks } = await speakOnce(
        transport,
        `Round ${rounds} on ${transport}. The token keeps changing underneath.`,
        rounds % 2 ? 'pcm_f32le' : 'pcm_s16le',
      )
      assert.ok(samples > 0 && chunks > 0)
      rounds++
    }
    assert.ok(rounds >= 2)
  })
}

test('websocket: one socket outlives many tokens, extended in band with refresh_token', async () => {
  const sockets = counts.sockets
  const refreshes = counts.refreshes
  const start = backend.minted.length
  const ctx = client.context({ ...request(''), max_buffer_delay_ms: 0 })
  const iterator = ctx[Symbol.asyncIterator]()
  let samples = 0
  let sentence = 0
  // One sentence per token: push, read some of its audio, then wait for the next token (event-driven,
  // no sleeps), four times over.
  const nextToken = () =>
    new Promise<void>((resolve) => {
      const off = tokens.onToken(() => {
        off()
        resolve()
      })
    })
  while (backend.minted.length < start + 4) {
    ctx.push(`Sentence number ${sentence++} of a long conversation. `)
    const r = await iterator.next()
    assert.equal(r.done, false)
    if (!r.done) samples += r.value.samples
    await nextToken()
  }
  ctx.end()
  for (let r = await iterator.next(); !r.done; r = await iterator.next()) samples += r.value.samples
  assert.ok(samples > 0)
  assert.ok(counts.refreshes >= refreshes + 3, `refresh_token sent in band (${counts.refreshes - refreshes})`)
  assert.ok(counts.sockets <= sockets + 1, 'no reconnect while the context was open')
})

test('a revoked token: HTTP refreshes once and retries; the socket fails its context with a typed error, then reconnects', async () => {
  // Revoke every token minted so far, including the one in use.
  for (const token of backend.minted)
    await call(server.url, '/access-token/revoke', { headers: bearer(server.apiKey), body: { token } })
  const before = backend.minted.length
  assert.ok((await speakOnce('sse', 'After revocation.')).samples > 0)
  assert.ok(backend.minted.length > before, 'a new token was fetched after the 401')

  const ctx = client.context({ ...request(''), max_buffer_delay_ms: 0 })
  const it = ctx[Symbol.asyncIterator]()
  ctx.push('Hold the socket open. ')
  assert.equal((await it.next()).done, false)
  for (const token of backend.minted)
    await call(server.url, '/access-token/revoke', { headers: bearer(server.apiKey), body: { token } })
  // The server ends the context with an error event, then closes the socket (4401).
  await assert.rejects(
    async () => {
      for (let r = await it.next(); !r.done; r = await it.next()) {
        /* drain */
      }
    },
    (err: { code?: string }) => err.code === 'ERR_TOKEN_REVOKED' || err.code === 'ERR_SOCKET_CLOSED',
  )
  assert.ok((await speakOnce('websocket', 'A fresh socket.')).samples > 0)
})

test('voices: paged iteration with the voices grant', async () => {
  const all = []
  for await (const v of client.voices.list({ limit: 1 })) all.push(v.id)
  const page = await client.voices.page({ limit: 100 })
  assert.deepEqual(
    all,
    page.data.map((v) => v.id),
  )
  assert.equal((await client.voices.get(voice)).id, voice)
  const info = await client.tokenInfo()
  assert.equal(info.grants.voices, true)
})
