import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { Conditions } from './conditions.ts'

/** One request the gateway sent to the fake, as received. */
export interface RecordedRequest {
  method: string
  url: string
  headers: IncomingHttpHeaders
  /** Every header line as sent (repeated names included), to prove what was not forwarded. */
  rawHeaderNames: string[]
  body: Buffer
}

export type FakeHandler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void

/**
 * A recording Cartesia-compatible HTTP upstream on 127.0.0.1 (plain HTTP: the gateway allows it to a
 * loopback address), the network edge of the HTTP relay tests. Each test sets `handler` to stage an
 * answer; every request and every open connection is counted, so a test can prove a refused
 * request never arrived and no socket was left open. Answers close their connection, so an open
 * connection is one the gateway still holds.
 */
export class FakeHttpUpstream {
  readonly requests: RecordedRequest[] = []
  /** The default answers a voices request (the start check) with an empty catalogue. */
  handler: FakeHandler = defaultHandler
  readonly #sockets = new Set<Socket>()
  readonly #conditions = new Conditions()

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<FakeHttpUpstream> {
    let fake: FakeHttpUpstream | undefined
    const server = createServer((req, res) => fake!.#handle(req, res))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    fake = new FakeHttpUpstream(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`)
    server.on('connection', (socket) => fake!.#track(socket))
    return fake
  }

  #track(socket: Socket): void {
    this.#sockets.add(socket)
    socket.once('close', () => {
      this.#sockets.delete(socket)
      this.#conditions.changed()
    })
    this.#conditions.changed()
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = []
    res.shouldKeepAlive = false
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      const names: string[] = []
      for (let i = 0; i < req.rawHeaders.length; i += 2) names.push(req.rawHeaders[i]!.toLowerCase())
      this.requests.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        rawHeaderNames: names,
        body,
      })
      this.handler(req, res, body)
      // After the handler: a test awaiting what the handler set up sees it.
      this.#conditions.changed()
    })
  }

  /** Connections open right now. */
  get open(): number {
    return this.#sockets.size
  }

  /** Resolves once `check` holds, re-checked on every request, connection and close. */
  until(check: () => boolean): Promise<void> {
    return this.#conditions.until(check)
  }

  /** Forgets the recorded requests and restores the default answer (between tests). */
  reset(): void {
    this.requests.length = 0
    this.handler = defaultHandler
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }
}

function defaultHandler(req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(req.url?.startsWith('/voices') ? 200 : 404, { 'content-type': 'application/json' })
  res.end(JSON.stringify({ data: [], has_more: false }))
}

/** Answers with `status` and a Cartesia-shaped error body. */
export function answerError(status: number, errorCode: string, message: string): FakeHandler {
  return (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json' })
    res.end(
      JSON.stringify({ error_code: errorCode, title: 'Upstream title', message, request_id: 'upstream-request-id' }),
    )
  }
}
