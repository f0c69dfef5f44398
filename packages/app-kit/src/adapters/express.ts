import type { IncomingMessage, ServerResponse } from 'node:http'
import { withClientAddress } from '../client-address.ts'
import type { RouteHandler } from '../token-route.ts'
import { toNodeHandler, toWebRequest, writeWebResponse, type NodeAdapterOptions } from './node.ts'

/** The parts of an Express request the adapter uses (typed structurally: express is not a dependency). */
/** `ip` is Express's client address (it honours the app's `trust proxy` setting). */
export type ExpressLikeRequest = IncomingMessage & { body?: unknown; protocol?: string; ip?: string }
export type ExpressLikeNext = (err?: unknown) => void
export type ExpressHandler = (req: ExpressLikeRequest, res: ServerResponse, next: ExpressLikeNext) => void

/** The body a body-parser already consumed, re-encoded for the web `Request`. */
function parsedBody(body: unknown): Uint8Array<ArrayBuffer> | undefined {
  if (body === undefined) return undefined
  if (body instanceof Uint8Array) return new Uint8Array(body)
  return new TextEncoder().encode(typeof body === 'string' ? body : JSON.stringify(body))
}

/**
 * Mounts a route on Express (4 or 5): `app.post('/api/voice-token', toExpressHandler(voice.tokenRoute))`.
 * Works with or without `express.json()` in front; failures go to `next(err)`.
 */
export function toExpressHandler(handler: RouteHandler, options: NodeAdapterOptions = {}): ExpressHandler {
  const raw = toNodeHandler(handler, options)
  return (req, res, next) => {
    // Once a body parser has read the stream, the body lives on `req.body`, not in the stream.
    const consumed = req.readableEnded || (req.body !== undefined && req.readableLength === 0 && !req.readable)
    const run = consumed
      ? handler(
          withClientAddress(toWebRequest(req, parsedBody(req.body), req.protocol), req.ip ?? req.socket.remoteAddress),
        ).then((response) => writeWebResponse(res, response))
      : raw(req, res)
    run.catch(next)
  }
}
