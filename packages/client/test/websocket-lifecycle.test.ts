import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ConnectionError, TokenSource, VoxgateClient, type WebSocketConstructor } from '../src/index.ts'
import { fakeBackend } from './helpers/backend.ts'
import { FakeClock, settle } from './helpers/clock.ts'

/** A WebSocket faked at the network edge: records URLs and sent messages; the test drives events. */
class FakeSocket {
  static all: FakeSocket[] = []
  /** When set, the next handshake fails (as a browser sees it: close 1006, no status). */
  static refuseNext = 0
  /** When true, handshakes complete only when the test calls `accept()`. */
  static manualOpen = false
  readyState = 0
  sent: any[] = []
  onopen: ((ev: unknown) => void) | null = null
  onmessage: ((ev: { data: unknown }) => void) | null = null
  onclose: ((ev: { code: number }) => void) | null = null
  onerror: ((ev: unknown) => void) | null = null
  constructor(readonly url: string) {
    FakeSocket.all.push(this)
    const refuse = FakeSocket.refuseNext > 0
    if (refuse) FakeSocket.refuseNext--
    if (!refuse && FakeSocket.manualOpen) return
    queueMicrotask(() => (refuse ? this.drop(1006) : this.accept()))
  }
  accept() {
    this.readyState = 1
    this.onopen?.({})
  }
  send(data: string) {
    this.sent.push(JSON.parse(data))
  }
  close(code = 1000) {
    this.drop(code)
  }
  drop(code: number) {
    if (this.readyState === 3) return
    this.readyState = 3
    this.onclose?.({ code })
  }
  emit(msg: object) {
    this.onmessage?.({ data: JSON.stringify(msg) })
  }
  get token() {
    return new URL(this.url).searchParams.get('access_token')
  }
}

function setup() {
  FakeSocket.all = []
  FakeSocket.refuseNext = 0
  FakeSocket.manualOpen = false
  const clock = new FakeClock()
  const backend = fakeBackend(clock, { ttl: 60 })
  const tokens = new TokenSource({ endpoint: 'https://app.example/token', fetch: backend.fetch, clock })
  const client = new VoxgateClient({
    baseUrl: 'https://voice.example',
    tokens,
    WebSocket: FakeSocket as unknown as WebSocketConstructor,
  })
  const req = {
    model_id: 'sonic-3',
    voice: 'v1',
    output_format: { container: 'raw', encoding: 'pcm_s16le', sample_rate: 16000 },
  } as const
  return { clock, backend, tokens, client, req }
}

test('the socket URL carries the token and version in the query (the browser form)', async () => {
  const { client, req, backend, tokens } = setup()
  const stream = client.speak({ ...req, transcript: 'Hi.' })
  await settle()
  const ws = FakeSocket.all[0] as FakeSocket
  const url = new URL(ws.url)
  assert.equal(url.protocol, 'wss:')
  assert.equal(url.pathname, '/tts/websocket')
  assert.equal(url.searchParams.get('cartesia_version'), '2026-08-14')
  assert.equal(ws.token, backend.tokens[0])
  const msg = ws.sent[0]
  assert.equal(msg.transcript, 'Hi.')
  assert.equal(msg.continue, false)
  ws.emit({ type: 'chunk', context_id: msg.context_id, data: 'AQIDBA==', done: false })
  ws.emit({ type: 'done', context_id: msg.context_id, done: true })
  const chunks = []
  for await (const c of stream) chunks.push(c)
  assert.deepEqual(
    chunks.map((c) => c.samples),
    [2],
  )
  tokens.close()
})

test('a dropped socket fails its open contexts with ERR_SOCKET_CLOSED; the next use reconnects with the freshest token', async () => {
  const { client, req, backend, clock, tokens } = setup()
  const ctx = client.context(req)
  ctx.push('Hello ')
  await settle()
  const first = FakeSocket.all[0] as FakeSocket
  first.drop(1006)
  await assert.rejects(
    async () => {
      for await (const _ of ctx) {
        /* none */
      }
    },
    (err: unknown) => err instanceof ConnectionError && err.code === 'ERR_SOCKET_CLOSED' && err.closeCode === 1006,
  )
  await clock.advance(45_000) // a background refresh brings a new token
  assert.equal(backend.tokens.length, 2)
  const stream = client.speak({ ...req, transcript: 'Again.' })
  await settle()
  const second = FakeSocket.all[1] as FakeSocket
  assert.equal(second.token, backend.tokens[1])
  second.emit({ type: 'done', context_id: second.sent[0].context_id })
  for await (const _ of stream) {
    /* none */
  }
  tokens.close()
})

test('an open socket is extended in band with every new token', async () => {
  const { client, req, backend, clock, tokens } = setup()
  const ctx = client.context(req)
  ctx.push('Hello ')
  await settle()
  const ws = FakeSocket.all[0] as FakeSocket
  await clock.advance(45_000)
  await clock.advance(45_000)
  const refreshes = ws.sent.filter((m) => m.type === 'refresh_token')
  assert.deepEqual(
    refreshes.map((m) => m.access_token),
    [backend.tokens[1], backend.tokens[2]],
  )
  assert.equal(FakeSocket.all.length, 1, 'the same socket')
  ctx.cancel()
  await settle()
  assert.deepEqual(ws.sent.at(-1), { context_id: ctx.contextId, cancel: true })
  tokens.close()
})

test('a refused handshake refreshes the token once and tries once more, then fails with ERR_SOCKET_CONNECT', async () => {
  const { client, req, backend, tokens } = setup()
  FakeSocket.refuseNext = 1
  const ok = client.speak({ ...req, transcript: 'Hi.' })
  await settle()
  assert.equal(FakeSocket.all.length, 2)
  assert.equal(backend.calls.length, 2)
  assert.equal((FakeSocket.all[1] as FakeSocket).token, backend.tokens[1])
  const ws = FakeSocket.all[1] as FakeSocket
  ws.emit({ type: 'done', context_id: ws.sent[0].context_id })
  for await (const _ of ok) {
    /* none */
  }
  ws.drop(1000)

  FakeSocket.refuseNext = 2
  const bad = client.speak({ ...req, transcript: 'Hi.' })
  await assert.rejects(
    async () => {
      for await (const _ of bad) {
        /* none */
      }
    },
    (err: ConnectionError) => err.code === 'ERR_SOCKET_CONNECT' && !err.message.includes(String(backend.tokens.at(-1))),
  )
  assert.equal(FakeSocket.all.length, 4, 'exactly one retry')
  tokens.close()
})

test('server error events become typed errors on their context only', async () => {
  const { client, req, tokens } = setup()
  const a = client.context(req)
  const b = client.context(req)
  a.push('A ')
  b.push('B ')
  await settle()
  const ws = FakeSocket.all[0] as FakeSocket
  ws.emit({
    type: 'error',
    context_id: a.contextId,
    status_code: 403,
    error_code: 'voice_not_allowed',
    title: 'Forbidden',
    message: 'no',
    request_id: 'r',
    done: true,
  })
  await assert.rejects(
    async () => {
      for await (const _ of a) {
        /* none */
      }
    },
    (err: { code: string }) => err.code === 'ERR_VOICE_NOT_ALLOWED',
  )
  ws.emit({ type: 'chunk', context_id: b.contextId, data: 'AQI=' })
  ws.emit({ type: 'flush_done', context_id: b.contextId, flush_id: 1 })
  ws.emit({ type: 'done', context_id: b.contextId })
  const got = []
  for await (const c of b) got.push(c.samples)
  assert.deepEqual(got, [1])
  tokens.close()
})

test('a token that arrives during the handshake is sent in band as soon as the socket opens', async () => {
  const { client, req, backend, tokens } = setup()
  FakeSocket.manualOpen = true
  const ctx = client.context(req)
  ctx.push('Hello ')
  await settle()
  const ws = FakeSocket.all[0] as FakeSocket
  assert.equal(ws.token, backend.tokens[0])
  await tokens.refresh() // the token changes while the handshake is in flight
  ws.accept()
  await settle()
  assert.deepEqual(
    ws.sent.filter((m) => m.type === 'refresh_token').map((m) => m.access_token),
    [backend.tokens[1]],
  )
  assert.equal(ws.sent.filter((m) => m.transcript === 'Hello ').length, 1)
  ctx.cancel()
  tokens.close()
})
