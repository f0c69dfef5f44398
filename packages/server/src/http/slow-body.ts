import type { IncomingMessage } from 'node:http'
import { PassThrough } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import { VoxgateError } from '@voxgate/protocol'

export interface BodyRate {
  /** Average bytes per second a body must keep up once the grace is over; 0 turns the rule off. */
  minBytesPerSecond: number
  graceMs: number
}

/**
 * Calls `onSlow` once a request body falls behind `minBytesPerSecond × (elapsed − grace)` bytes
 * (Apache mod_reqtimeout's MinRate): a large upload on a slow but steady link passes, a trickle that
 * would hold the connection open does not. It counts bytes on the socket, so the rule holds whether
 * or not anything reads the body (a route that answered early still has Node drain it).
 */
export function watchBodyRate(req: IncomingMessage, rate: BodyRate, onSlow: () => void): void {
  if (rate.minBytesPerSecond === 0 || req.complete || !hasBody(req)) return
  const socket = req.socket
  const start = performance.now()
  const base = socket.bytesRead
  let timer: NodeJS.Timeout | undefined
  const check = (): void => {
    if (req.complete || socket.destroyed) return
    const due = start + rate.graceMs + ((socket.bytesRead - base) * 1000) / rate.minBytesPerSecond
    const wait = due - performance.now()
    if (wait <= 0) onSlow()
    else timer = setTimeout(check, Math.ceil(wait)).unref()
  }
  // This runs while Node parses the read that brought the headers; a small body usually comes in that
  // same read, and is in the request once the parse returns. A microtask later a body that has all
  // arrived is left untimed (nothing is left to arrive slowly), and a mint, say, costs no timer and no
  // listener; only a body still arriving is watched.
  queueMicrotask(() => {
    if (arrived(req)) return
    timer = setTimeout(check, rate.graceMs).unref()
    req.once('close', () => clearTimeout(timer))
  })
}

/**
 * The minimum body rate on every route. While Fastify parses a body it reads a stream of ours, so a
 * slow one fails the parse with `408 request_timeout` and `Connection: close` like any body error;
 * when nothing is parsing it any more (the answer went out early) the connection is simply cut.
 * The hooks are callback-style: they never wait, and an async hook costs a promise and a microtask
 * hop on every request.
 */
export function registerBodyRate(app: FastifyInstance, rate: BodyRate): void {
  if (rate.minBytesPerSecond === 0) return
  const parsing = new WeakMap<IncomingMessage, PassThrough>()
  app.addHook('onRequest', (request, reply, done) => {
    watchBodyRate(request.raw, rate, () => {
      const body = parsing.get(request.raw)
      if (body && !reply.sent)
        body.destroy(
          new VoxgateError(
            'request_timeout',
            `The request body arrived slower than ${rate.minBytesPerSecond} bytes per second.`,
          ),
        )
      else request.raw.socket.destroy()
    })
    done()
  })
  app.addHook('preParsing', (request, _reply, payload, done) => {
    // Multipart bodies (STT uploads) are read by @fastify/multipart straight from the request (busboy
    // pipes request.raw), never through this payload: a second reader would stall them. A slow one is cut at the socket.
    if (arrived(request.raw) || /^multipart\//i.test(request.headers['content-type'] ?? '')) return done(null, payload)
    const body = new PassThrough()
    payload.once('error', (err) => body.destroy(err))
    parsing.set(request.raw, body)
    done(null, payload.pipe(body))
  })
}

/**
 * A request with neither Content-Length nor Transfer-Encoding has no body (RFC 9112 §6.3), and Node
 * marks it complete as soon as its headers are parsed: there is nothing to time.
 */
function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length']
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0')
}

/**
 * The whole body is already buffered in the request, unread, so no deadline of the guard's can
 * matter any more: nothing is left to arrive slowly. Usually so for a small body, whose bytes come in
 * the read that brought the headers: Node pushes them before the preParsing hook runs but marks the
 * request complete only after it (so `complete` alone says no).
 */
function arrived(req: IncomingMessage): boolean {
  if (req.complete) return true
  const length = req.headers['content-length']
  return length !== undefined && req.headers['transfer-encoding'] === undefined && req.readableLength === Number(length)
}
