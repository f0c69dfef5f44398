import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/** One request a receiver got: its headers and raw body. */
export interface Received {
  headers: IncomingHttpHeaders
  body: string
  /** When it arrived (this process's clock, ms). */
  at: number
  json: { type: string; timestamp: string; data: Record<string, unknown> }
}

/**
 * A webhook receiver on 127.0.0.1 (plain HTTP, so servers under test need `webhookAllowPrivate`):
 * records every request and answers with `answer` (200 unless told). It can be stopped and started
 * again on the same port, as a receiver that is down for a while.
 */
export class WebhookReceiver {
  readonly received: Received[] = []
  answer: (n: number) => { status: number; headers?: Record<string, string> } = () => ({ status: 200 })
  #server: Server | undefined
  #port = 0

  static async start(port = 0): Promise<WebhookReceiver> {
    const r = new WebhookReceiver()
    await r.listen(port)
    return r
  }

  get port(): number {
    return this.#port
  }

  url(path = '/hook'): string {
    return `http://127.0.0.1:${this.#port}${path}`
  }

  async listen(port = this.#port): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8')
        this.received.push({ headers: req.headers, body, at: Date.now(), json: JSON.parse(body) })
        const a = this.answer(this.received.length)
        res.writeHead(a.status, a.headers).end()
      })
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => resolve())
    })
    this.#server = server
    this.#port = (server.address() as AddressInfo).port
  }

  /** Stops listening (connections refused until `listen` again). */
  async stop(): Promise<void> {
    const server = this.#server
    this.#server = undefined
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()).closeAllConnections())
  }

  of(type: string): Received[] {
    return this.received.filter((r) => r.json.type === type)
  }
}
