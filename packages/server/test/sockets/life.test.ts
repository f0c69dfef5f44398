import { after, afterEach, before, describe, mock, test } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { pino } from 'pino'
import { type RawData, WebSocket, WebSocketServer } from 'ws'
import { VoxgateError } from '@voxgate/protocol'
import type { Principal, TokenPrincipal } from '../../src/auth/principal.ts'
import { RevocationList } from '../../src/auth/revocations.ts'
import { REVOKED_GRACE_MS } from '../../src/sockets/hard-close.ts'
import {
  MAX_PENDING_MESSAGES,
  STT_SOCKET,
  type SocketKind,
  SocketLife,
  type SocketLifeContext,
  TTS_SOCKET,
} from '../../src/sockets/life.ts'
import type { Store } from '../../src/store/types.ts'
import { openStore } from '../../src/store/open.ts'
import { StreamRegistry } from '../../src/streams/registry.ts'
import { StoreSlots } from '../../src/streams/store-slots.ts'
import { ManualClock } from '../helpers/clock.ts'

const IDLE_MS = 60_000
const GRACE_MS = 500

let http: Server
let wss: WebSocketServer
let store: Store
let dataDir: string
let revocations: RevocationList
let streams: StreamRegistry

before(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'voxgate-socket-life-'))
  store = await openStore({ dataDir })
  revocations = new RevocationList()
  streams = new StreamRegistry(revocations, new StoreSlots(store, pino({ level: 'silent' })))
  http = createServer()
  wss = new WebSocketServer({ server: http })
  http.listen(0, '127.0.0.1')
  await once(http, 'listening')
})

after(async () => {
  wss.close()
  http.close()
  await store.close()
  rmSync(dataDir, { recursive: true, force: true })
})

afterEach(() => mock.timers.reset())

/** What a role heard from the life, in order. */
interface Heard {
  messages: string[]
  closing: (VoxgateError | undefined)[]
  teardowns: number
  closes: [string, number][]
}

interface Pair {
  life: SocketLife
  heard: Heard
  /** The client's end of the loopback pair. */
  client: WebSocket
  /** What the client received, in order: text messages, then `close <code> <reason>`. */
  received: string[]
  clientClosed: Promise<void>
  tcp: Socket
  server: WebSocket
  busy: { value: boolean }
}

const apiKey: Principal = { kind: 'api_key', keyId: 'key_life', scopes: [], policy: null }

function token(clock: ManualClock, expiresInSeconds: number, jti = `jti_${Math.random()}`): TokenPrincipal {
  const now = Math.floor(clock.now() / 1000)
  return {
    kind: 'token',
    keyId: 'key_life',
    jti,
    grants: { tts: true },
    issuedAtSeconds: now,
    expiresAtSeconds: now + expiresInSeconds,
  }
}

/** A real ws pair on loopback, the server end given a life whose role records what it hears. */
async function pair(
  options: {
    principal?: Principal
    kind?: SocketKind
    clock?: ManualClock
    timers?: boolean
    registry?: Set<{ shutdown(): void }>
  } = {},
): Promise<Pair> {
  const connected = once(wss, 'connection') as Promise<[WebSocket, { socket: Socket }]>
  const client = new WebSocket(`ws://127.0.0.1:${(http.address() as AddressInfo).port}`)
  const received: string[] = []
  client.on('message', (data: RawData) => received.push(String(data)))
  const clientClosed = new Promise<void>((resolve) =>
    client.on('close', (code, reason) => {
      received.push(`close ${code} ${reason}`)
      resolve()
    }),
  )
  await once(client, 'open')
  const [server, req] = await connected
  // The life's timers are the mocked ones from here on; the sockets' I/O stays real.
  if (options.timers) mock.timers.enable({ apis: ['setTimeout'] })
  const heard: Heard = { messages: [], closing: [], teardowns: 0, closes: [] }
  const busy = { value: false }
  const ctx: SocketLifeContext = {
    config: { wsIdleTimeoutMs: IDLE_MS, wsSessionGraceMs: GRACE_MS },
    clock: options.clock ?? new ManualClock(),
    streams,
    metrics: { websocketClosed: (endpoint, code) => heard.closes.push([endpoint, code]) },
  }
  const life = new SocketLife({
    ctx,
    kind: options.kind ?? TTS_SOCKET,
    ws: server,
    tcp: req.socket,
    principal: options.principal ?? apiKey,
    role: {
      message: (data) => heard.messages.push(String(data)),
      closing: (err) => {
        heard.closing.push(err)
        // The terminal event goes out before the close frame.
        server.send(`terminal ${err?.code ?? 'none'}`)
      },
      teardown: () => {
        heard.teardowns += 1
      },
      busy: () => busy.value,
    },
    ...(options.registry && { registry: options.registry }),
  })
  return { life, heard, client, received, clientClosed, tcp: req.socket, server, busy }
}

/** Waits until `p.heard.messages` holds `n` messages (real I/O, whatever the timers). */
async function messages(p: Pair, n: number): Promise<void> {
  while (p.heard.messages.length < n) await new Promise((resolve) => setImmediate(resolve))
}

describe('the socket life: states and teardown', () => {
  test('open, then closing (terminal event before the close frame, teardown once), then closed', async () => {
    const p = await pair()
    assert.equal(p.life.state, 'open')
    p.client.send('hello')
    await messages(p, 1)
    assert.deepEqual(p.heard.messages, ['hello'])
    p.life.close(4401, new VoxgateError('token_revoked', 'Revoked.'))
    assert.equal(p.life.state, 'closing')
    assert.equal(p.heard.teardowns, 1)
    // A second close is no close: no second terminal event, no second teardown.
    p.life.close(1000, new VoxgateError('connection_closing', 'Again.'))
    await p.clientClosed
    await once(p.server, 'close')
    assert.equal(p.life.state, 'closed')
    assert.deepEqual(p.received, ['terminal token_revoked', 'close 4401 token_revoked'])
    assert.deepEqual(
      p.heard.closing.map((e) => e?.code),
      ['token_revoked'],
    )
    assert.equal(p.heard.teardowns, 1)
    assert.deepEqual(p.heard.closes, [['tts', 4401]])
  })

  test('an STT socket sends the close code without a reason; a normal end has no terminal error', async () => {
    const p = await pair({ kind: STT_SOCKET })
    p.life.close(1000)
    await p.clientClosed
    assert.deepEqual(p.received, ['terminal none', 'close 1000 '])
    await once(p.server, 'close')
    assert.deepEqual(p.heard.closes, [['stt', 1000]])
  })

  test('the peer closing tears down once, with no terminal events (nobody is there to read them)', async () => {
    const p = await pair()
    p.client.close(1000)
    await once(p.server, 'close')
    assert.equal(p.life.state, 'closed')
    assert.deepEqual(p.heard.closing, [])
    assert.equal(p.heard.teardowns, 1)
    assert.deepEqual(p.heard.closes, [['tts', 1000]])
    // Closing what is gone does nothing.
    p.life.close(1000, new VoxgateError('connection_closing', 'Late.'))
    assert.equal(p.heard.teardowns, 1)
  })

  test('messages after the close began are not handed to the role', async () => {
    const p = await pair()
    p.life.close(1000, new VoxgateError('connection_closing', 'Bye.'))
    p.client.send('late')
    await p.clientClosed
    assert.deepEqual(p.heard.messages, [])
  })

  test('a handed-over socket stays open, its old role hears nothing more, and nothing is counted twice', async () => {
    const p = await pair()
    p.life.handOver()
    assert.equal(p.life.state, 'closed')
    assert.equal(p.heard.teardowns, 1)
    p.client.send('for the successor')
    p.server.once('message', (data: RawData) => p.server.send(`echo ${data}`))
    await new Promise<void>((resolve) => p.client.once('message', () => resolve()))
    assert.deepEqual(p.heard.messages, [])
    assert.deepEqual(p.received, ['echo for the successor'])
    p.client.close(1000)
    await once(p.server, 'close')
    assert.deepEqual(p.heard.closes, [])
    assert.equal(p.heard.teardowns, 1)
  })
})

describe('the socket life: inbox', () => {
  test('handles messages one after another, in order, across awaits', async () => {
    const p = await pair()
    const order: string[] = []
    let release = () => {}
    const first = new Promise<void>((resolve) => (release = resolve))
    p.life.serve(
      async () => {
        await first
        order.push('first')
      },
      () => undefined,
    )
    p.life.serve(
      async () => {
        order.push('second')
      },
      () => undefined,
    )
    await new Promise((resolve) => setImmediate(resolve))
    assert.deepEqual(order, [])
    release()
    await new Promise((resolve) => setImmediate(resolve))
    assert.deepEqual(order, ['first', 'second'])
    p.life.close(1000)
    await p.clientClosed
  })

  test('a handler that throws reaches onError, and the next one still runs', async () => {
    const p = await pair()
    const errors: unknown[] = []
    p.life.serve(
      async () => {
        throw new VoxgateError('invalid_request', 'Bad.')
      },
      (err) => errors.push(err),
    )
    let ran = false
    p.life.serve(
      async () => {
        ran = true
      },
      (err) => errors.push(err),
    )
    await new Promise((resolve) => setImmediate(resolve))
    assert.deepEqual(
      errors.map((e) => (e as VoxgateError).code),
      ['invalid_request'],
    )
    assert.equal(ran, true)
    p.life.close(1000)
    await p.clientClosed
  })

  test(`${MAX_PENDING_MESSAGES} messages may wait; one more closes 1008 rate_limited and resets the connection`, async () => {
    const p = await pair()
    const never = new Promise<void>(() => undefined)
    for (let i = 0; i < MAX_PENDING_MESSAGES; i++)
      p.life.serve(
        () => never,
        () => undefined,
      )
    assert.equal(p.life.state, 'open')
    p.life.serve(
      () => never,
      () => undefined,
    )
    assert.equal(p.life.state, 'closing')
    assert.deepEqual(
      p.heard.closing.map((e) => e?.code),
      ['rate_limited'],
    )
    assert.equal(p.tcp.destroyed, true)
    await p.clientClosed
    assert.equal(p.heard.teardowns, 1)
  })
})

describe('the socket life: timers on a controlled clock', () => {
  test('idle for wsIdleTimeoutMs closes 1000 connection_closing; a client message starts the wait again', async () => {
    const p = await pair({ timers: true })
    mock.timers.tick(IDLE_MS - 1)
    p.client.send('still here')
    await messages(p, 1)
    mock.timers.tick(IDLE_MS - 1)
    assert.equal(p.life.state, 'open')
    mock.timers.tick(1)
    assert.equal(p.life.state, 'closing')
    assert.deepEqual(
      p.heard.closing.map((e) => e?.code),
      ['connection_closing'],
    )
    await p.clientClosed
    assert.deepEqual(p.received, ['terminal connection_closing', 'close 1000 connection_closing'])
  })

  test('a busy role keeps an idle socket open; touch() counts as activity', async () => {
    const p = await pair({ timers: true })
    p.busy.value = true
    mock.timers.tick(IDLE_MS * 3)
    assert.equal(p.life.state, 'open')
    p.busy.value = false
    mock.timers.tick(IDLE_MS - 1)
    p.life.touch()
    mock.timers.tick(IDLE_MS - 1)
    assert.equal(p.life.state, 'open')
    mock.timers.tick(1)
    assert.equal(p.life.state, 'closing')
    await p.clientClosed
  })

  test("a token's socket ends at its expiry plus the session grace: 4401 token_expired, with the kind's hint", async () => {
    const clock = new ManualClock()
    const p = await pair({ timers: true, clock, principal: token(clock, 10), kind: STT_SOCKET })
    mock.timers.tick(10_000 + GRACE_MS - 1)
    assert.equal(p.life.state, 'open')
    mock.timers.tick(1)
    assert.equal(p.life.state, 'closing')
    const [err] = p.heard.closing
    assert.equal(err?.code, 'token_expired')
    assert.equal(err?.message, 'The access token expired; open a new socket with a fresh token.')
    await p.clientClosed
    assert.deepEqual(p.received, ['terminal token_expired', 'close 4401 '])
  })

  test('renew() moves the deadline to the fresh token', async () => {
    const clock = new ManualClock()
    const p = await pair({ timers: true, clock, principal: token(clock, 10) })
    // Only the session timer is looked at here.
    p.busy.value = true
    clock.advance(5_000)
    mock.timers.tick(5_000)
    p.life.renew(token(clock, 60))
    mock.timers.tick(5_000 + GRACE_MS)
    assert.equal(p.life.state, 'open', 'past the old deadline')
    mock.timers.tick(55_000 - 1)
    assert.equal(p.life.state, 'open')
    mock.timers.tick(1)
    assert.equal(p.heard.closing[0]?.code, 'token_expired')
    assert.equal(
      p.heard.closing[0]?.message,
      'The access token expired; send a refresh_token message to extend the socket.',
    )
    await p.clientClosed
  })

  test('a socket on an API key has no deadline', async () => {
    const q = await pair({ timers: true })
    q.busy.value = true
    mock.timers.tick(10 * 365 * 86_400_000)
    assert.equal(q.life.state, 'open')
    q.life.close(1000)
    await q.clientClosed
  })
})

describe('the socket life: revocation', () => {
  test('a TTS socket watches its credential: a revocation closes it 4401 token_revoked, then the connection is cut', async () => {
    const clock = new ManualClock()
    const principal = token(clock, 3600)
    const p = await pair({ timers: true, clock, principal })
    revocations.add({ kind: 'jti', jti: principal.jti, expiresAt: Date.now() + 3_600_000 })
    streams.sweep()
    assert.equal(p.life.state, 'closing')
    assert.deepEqual(
      p.heard.closing.map((e) => e?.code),
      ['token_revoked'],
    )
    await p.clientClosed
    assert.deepEqual(p.received, ['terminal token_revoked', 'close 4401 token_revoked'])
    mock.timers.tick(REVOKED_GRACE_MS)
    assert.equal(p.tcp.destroyed, true)
  })

  test('after a renew the old credential is no longer watched, the fresh one is', async () => {
    const clock = new ManualClock()
    const old = token(clock, 3600)
    const p = await pair({ clock, principal: old })
    const fresh = token(clock, 3600)
    p.life.renew(fresh)
    revocations.add({ kind: 'jti', jti: old.jti, expiresAt: Date.now() + 3_600_000 })
    streams.sweep()
    assert.equal(p.life.state, 'open')
    revocations.add({ kind: 'jti', jti: fresh.jti, expiresAt: Date.now() + 3_600_000 })
    streams.sweep()
    assert.equal(p.life.state, 'closing')
    await p.clientClosed
  })

  test("an STT socket is revoked through its stream's lease (revoked()); the server's shutdown closes 1001", async () => {
    const clock = new ManualClock()
    const principal = token(clock, 3600)
    const p = await pair({ clock, principal, kind: STT_SOCKET })
    revocations.add({ kind: 'jti', jti: principal.jti, expiresAt: Date.now() + 3_600_000 })
    streams.sweep()
    assert.equal(p.life.state, 'open', 'the life does not watch: the lease does')
    p.life.revoked(new VoxgateError('token_revoked', 'Revoked.'))
    await p.clientClosed
    assert.deepEqual(p.received, ['terminal token_revoked', 'close 4401 '])
    const q = await pair({ kind: STT_SOCKET })
    q.life.revoked(new VoxgateError('connection_closing', 'The server is shutting down.'))
    await q.clientClosed
    assert.deepEqual(q.received, ['terminal connection_closing', 'close 1001 '])
  })

  test('a registry lists the socket while it lives; shutdown() closes it 1001', async () => {
    const registry = new Set<{ shutdown(): void }>()
    const p = await pair({ kind: STT_SOCKET, registry })
    const life = p.life
    assert.deepEqual([...registry], [life])
    for (const s of [...registry]) s.shutdown()
    assert.equal(registry.size, 0)
    await p.clientClosed
    assert.deepEqual(p.received, ['terminal connection_closing', 'close 1001 '])
  })
})
