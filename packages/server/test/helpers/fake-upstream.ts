import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { WebSocketServer, type WebSocket } from 'ws'
import { Conditions } from './conditions.ts'

/** One socket the gateway opened to the fake: its handshake and every message it sent, in order. */
export interface FakeConnection {
  ws: WebSocket
  url: string
  headers: IncomingHttpHeaders
  /** Parsed JSON messages (text frames; `{ text }` when not JSON), or `{ binary: n }` for a binary frame of n bytes. */
  messages: any[]
  /** The text frames exactly as they arrived. */
  texts: string[]
  closed: Promise<number>
}

/** How the fake answers a WebSocket handshake: accept, never answer, or refuse with this HTTP status and body. */
export type HandshakeMode = 'accept' | 'hang' | { status: number; body: string; headers?: string[] }

/**
 * A recording Cartesia-compatible upstream on 127.0.0.1 (plain HTTP: the gateway allows it to a
 * loopback address): the network edge of gateway tests, faked so each failure mode can be staged.
 * By default it ends each context whose input ended with one chunk and `done`, and answers a cancel with `done`.
 */
export class FakeUpstream {
  readonly connections: FakeConnection[] = []
  mode: HandshakeMode = 'accept'
  /** Sent on each new socket at once, before any message (as the turns socket's `connected`). */
  greeting: object | undefined
  /** Replaces the default answer to each message. */
  onMessage: ((conn: FakeConnection, msg: any) => void) | undefined
  #open = 0
  #hung: import('node:stream').Duplex[] = []
  /** Each returns true once satisfied (and is then dropped). */
  readonly #conditions = new Conditions()

  private constructor(
    private readonly http: Server,
    private readonly wss: WebSocketServer,
    readonly url: string,
  ) {}

  static async start(): Promise<FakeUpstream> {
    // A voices request (a start check) gets an empty catalogue; nothing else is served over HTTP.
    const http = createServer((req, res) => {
      res.writeHead(req.url?.startsWith('/voices') ? 200 : 404, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ data: [], has_more: false }))
    })
    const wss = new WebSocketServer({ noServer: true })
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
    const fake = new FakeUpstream(http, wss, `http://127.0.0.1:${(http.address() as AddressInfo).port}`)
    http.on('upgrade', (req, socket, head) => fake.#upgrade(req, socket, head))
    return fake
  }

  #upgrade(req: import('node:http').IncomingMessage, socket: import('node:stream').Duplex, head: Buffer): void {
    if (this.mode === 'hang') return void this.#hung.push(socket)
    if (this.mode !== 'accept') {
      const { status, body, headers = [] } = this.mode
      const head = [
        `HTTP/1.1 ${status} Refused`,
        'Content-Type: application/json',
        `Content-Length: ${Buffer.byteLength(body)}`,
        'Connection: close',
        ...headers,
      ]
      socket.end(`${head.join('\r\n')}\r\n\r\n${body}`)
      return
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.#open += 1
      const conn: FakeConnection = {
        ws,
        url: req.url ?? '',
        headers: req.headers,
        messages: [],
        texts: [],
        closed: new Promise((resolve) =>
          ws.once('close', (code) => {
            this.#open -= 1
            this.#conditions.changed()
            resolve(code)
          }),
        ),
      }
      this.connections.push(conn)
      if (this.greeting) ws.send(JSON.stringify(this.greeting))
      ws.on('message', (data, isBinary) => {
        const msg = isBinary ? { binary: (data as Buffer).length } : parse(data.toString())
        conn.messages.push(msg)
        if (!isBinary) conn.texts.push(data.toString())
        if (this.onMessage) this.onMessage(conn, msg)
        else if (conn.url.startsWith('/stt/')) answerStt(ws, msg)
        else if (!isBinary) answer(ws, msg)
        this.#conditions.changed()
      })
      this.#conditions.changed()
    })
  }

  /** Sockets open right now. */
  get open(): number {
    return this.#open
  }

  /** Resolves once `check` holds, re-checked on every connection, message and close. */
  until(check: () => boolean): Promise<void> {
    return this.#conditions.until(check)
  }

  async close(): Promise<void> {
    for (const c of this.connections) c.ws.terminate()
    for (const s of this.#hung) s.destroy()
    this.wss.close()
    await new Promise<void>((resolve) => this.http.close(() => resolve()))
  }
}

/** 100 ms of 16 kHz pcm_s16le silence, base64: the chunk the fake speaks. */
export const FAKE_CHUNK = Buffer.alloc(3200).toString('base64')

function parse(text: string): any {
  try {
    return JSON.parse(text)
  } catch {
    return { text }
  }
}

/** STT: `finalize` gets a final transcript and `flush_done`; `close` gets `done`, then a normal close. */
function answerStt(ws: WebSocket, msg: any): void {
  if (msg.text === 'finalize') {
    ws.send(JSON.stringify({ type: 'transcript', is_final: true, request_id: 'up-1', text: 'hello world' }))
    ws.send(JSON.stringify({ type: 'flush_done', request_id: 'up-1' }))
  } else if (msg.text === 'close') {
    ws.send(JSON.stringify({ type: 'done', request_id: 'up-1' }))
    ws.close(1000)
  }
}

function answer(ws: WebSocket, msg: any): void {
  const id = msg.context_id
  if (msg.cancel === true)
    return ws.send(JSON.stringify({ type: 'done', done: true, status_code: 206, context_id: id }))
  if (msg.continue === true) return
  ws.send(
    JSON.stringify({ type: 'chunk', data: FAKE_CHUNK, done: false, status_code: 206, step_time: 1, context_id: id }),
  )
  ws.send(JSON.stringify({ type: 'done', done: true, status_code: 206, context_id: id }))
}
