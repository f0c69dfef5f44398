import type { IncomingMessage, ServerResponse } from 'node:http'
import { withClientAddress } from '../client-address.ts'
import { errorResponse } from '../respond.ts'
import type { RouteHandler } from '../token-route.ts'

export interface NodeAdapterOptions {
  /** Largest request body read into memory; a larger one is a 413. @default 65536 */
  bodyLimitBytes?: number
}

export type NodeHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>

class BodyTooLarge extends Error {}

/** Reads the body up to a limit; the token routes never need more than a few bytes of it. */
export async function readBody(req: IncomingMessage, limit: number): Promise<Uint8Array<ArrayBuffer>> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > limit) throw new BodyTooLarge()
    chunks.push(chunk)
  }
  return new Uint8Array(Buffer.concat(chunks))
}

/** A web `Request` from node's request parts; `https` unless the socket is known to be plain. */
export function toWebRequest(
  req: IncomingMessage,
  body: Uint8Array<ArrayBuffer> | undefined,
  protocol?: string,
): Request {
  const scheme = protocol ?? ('encrypted' in req.socket && req.socket.encrypted ? 'https' : 'http')
  const headers = new Headers()
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v)
  }
  const method = req.method ?? 'GET'
  const url = new URL(req.url ?? '/', `${scheme}://${req.headers.host ?? 'localhost'}`)
  const withBody = method !== 'GET' && method !== 'HEAD' && body !== undefined
  return new Request(url, { method, headers, ...(withBody && { body }) })
}

/** Writes a web `Response` to node's response, keeping each `Set-Cookie` separate. */
export async function writeWebResponse(res: ServerResponse, response: Response): Promise<void> {
  res.statusCode = response.status
  for (const [name, value] of response.headers) if (name !== 'set-cookie') res.setHeader(name, value)
  const cookies = response.headers.getSetCookie()
  if (cookies.length > 0) res.setHeader('set-cookie', cookies)
  res.end(Buffer.from(await response.arrayBuffer()))
}

/**
 * Mounts a route on `node:http` / `node:https`.
 *
 * @example
 * ```ts
 * const tokenRoute = toNodeHandler(voice.tokenRoute)
 * https.createServer(tls, (req, res) => req.url === '/api/voice-token' ? tokenRoute(req, res) : next(req, res))
 * ```
 */
export function toNodeHandler(handler: RouteHandler, options: NodeAdapterOptions = {}): NodeHandler {
  const limit = options.bodyLimitBytes ?? 64 * 1024
  return async (req, res) => {
    let body: Uint8Array<ArrayBuffer>
    try {
      body = await readBody(req, limit)
    } catch (err) {
      if (!(err instanceof BodyTooLarge)) throw err
      return writeWebResponse(res, errorResponse('payload_too_large'))
    }
    let request: Request
    try {
      request = withClientAddress(toWebRequest(req, body), req.socket.remoteAddress)
    } catch {
      return writeWebResponse(res, errorResponse('bad_request'))
    }
    await writeWebResponse(res, await handler(request))
  }
}
