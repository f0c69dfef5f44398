import { mock } from 'node:test'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { pino } from 'pino'
import { type RawData, WebSocket, WebSocketServer } from 'ws'
import type { VoxgateError } from '@voxgate/protocol'
import type { Principal, TokenPrincipal } from '../../src/auth/principal.ts'
import { RevocationList } from '../../src/auth/revocations.ts'
import { type SocketKind, SocketLife, type SocketLifeContext, TTS_SOCKET } from '../../src/sockets/life.ts'
import type { Store } from '../../src/store/types.ts'
import { openStore } from '../../src/store/open.ts'
import { StreamRegistry } from '../../src/streams/registry.ts'
import { StoreSlots } from '../../src/streams/store-slots.ts'
import { ManualClock } from '../helpers/clock.ts'

export const IDLE_MS = 60_000
export const GRACE_MS = 500

let http: Server
let wss: WebSocketServer
let store: Store
let dataDir: string
/** The revocations the lab's stream registry checks: add one, then `streams.sweep()`. */
export let revocations: RevocationList
export let streams: StreamRegistry

/**
 * A loopback lab for the socket life (sockets/life.ts): a real HTTP server with a ws server on port 0,
 * a real stream registry over a SQLite store in a temp folder. Call from `before`.
 */
export async function startLab(): Promise<void> {
  dataDir = mkdtempSync(path.join(tmpdir(), 'voxgate-socket-life-'))
  store = await openStore({ dataDir })
  revocations = new RevocationList()
  streams = new StreamRegistry(revocations, new StoreSlots(store, pino({ level: 'silent' })))
  http = createServer()
  wss = new WebSocketServer({ server: http })
  http.listen(0, '127.0.0.1')
  await once(http, 'listening')
}

/** Call from `after`. */
export async function stopLab(): Promise<void> {
  wss.close()
  http.close()
  await store.close()
  rmSync(dataDir, { recursive: true, force: true })
}

/** What a role heard from the life, in order. */
export interface Heard {
  messages: string[]
  closing: (VoxgateError | undefined)[]
  teardowns: number
  closes: [string, number][]
}

export interface Pair {
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

export const apiKey: Principal = { kind: 'api_key', keyId: 'key_life', scopes: [], policy: null }

export function token(clock: ManualClock, expiresInSeconds: number, jti = `jti_${Math.random()}`): TokenPrincipal {
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
export async function pair(
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
export async function messages(p: Pair, n: number): Promise<void> {
  while (p.heard.messages.length < n) await new Promise((resolve) => setImmediate(resolve))
}
