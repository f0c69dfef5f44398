import https from 'node:https'
import type { IncomingHttpHeaders } from 'node:http'

export interface RawResponse {
  status: number
  headers: IncomingHttpHeaders
  body: Buffer
  /** The body ended cleanly; false when the connection was cut mid-body. */
  complete: boolean
  json: any
  /** The socket error, when the request failed before a response arrived. */
  error?: string
}

/**
 * One HTTPS request with exactly the headers given (fetch adds and forbids some: hop-by-hop headers,
 * Cookie), read to its end or to its cut. For the gateway's header-hygiene and stream-cut tests.
 */
export function rawRequest(
  url: string,
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<RawResponse> {
  return new Promise((resolve) => {
    const req = https.request(
      new URL(path, url),
      { method: init.method ?? 'POST', headers: init.headers, agent: false },
      (res) => {
        const chunks: Buffer[] = []
        const done = (complete: boolean) => {
          const body = Buffer.concat(chunks)
          const json =
            (res.headers['content-type'] ?? '').includes('application/json') && complete
              ? JSON.parse(body.toString())
              : undefined
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, complete, json })
        }
        res.on('data', (c: Buffer) => chunks.push(c))
        res.once('end', () => done(true))
        res.on('error', () => done(false))
        res.once('close', () => done(res.complete))
      },
    )
    // A connection reset before the status line (a revoked stream is cut so) is a cut response, status 0.
    req.on('error', (err: NodeJS.ErrnoException) =>
      resolve({ status: 0, headers: {}, body: Buffer.alloc(0), complete: false, json: undefined, error: err.code }),
    )
    req.end(init.body)
  })
}

/** The SSE events of a body, parsed (`data:` lines as JSON). */
export function sseEvents(body: Buffer): any[] {
  return body
    .toString()
    .split(/\r?\n\r?\n/)
    .filter((f) => f.includes('data:'))
    .map((f) =>
      JSON.parse(
        f
          .split(/\r?\n/)
          .filter((l) => l.startsWith('data:'))
          .map((l) => l.slice(5).trim())
          .join('\n'),
      ),
    )
}
