import type { Readable } from 'node:stream'
import { errorCodes, type FastifyInstance, type FastifyRequest } from 'fastify'

type JsonParser = ReturnType<FastifyInstance['getDefaultJsonParser']>
type Done = (err: Error | null, body?: unknown) => void

/**
 * The `application/json` body reader: Fastify's own JSON parser (`secure-json-parse`, its errors) and
 * its reader's rules (the route's body limit, a Content-Length that must match), with one shortcut. A
 * small body usually comes in the read that brought its headers, so by the time the body is parsed
 * it is all in the request's buffer, unread: it is taken from there at once, instead of through the
 * stream's `resume`, `data` and `end` and the ticks between them, which were about half of what a
 * mint added to `GET /` in instructions (docs/performance.md, round five). Any other body (still
 * arriving, or read through the body-rate guard's stream) is read as Fastify reads it
 * (content-type-parser.js, `rawBody`).
 */
export function jsonBodyReader(json: JsonParser) {
  return (request: FastifyRequest, payload: Readable, done: Done): void => {
    const length = Number(request.headers['content-length'])
    const limit = request.routeOptions.bodyLimit
    if (length > limit) return done(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE(), undefined)
    const req = request.raw
    if (payload === req && req.headers['transfer-encoding'] === undefined && req.readableLength === length) {
      const body = req.read() as Buffer | null
      json(request, body === null ? '' : body.toString('utf8'), done)
      return
    }
    readStream(request, payload, { length, limit }, json, done)
  }
}

/** Fastify's reader (content-type-parser.js `rawBody`, parsing as a string), with its errors. */
function readStream(
  request: FastifyRequest,
  payload: Readable & { receivedEncodedLength?: number },
  { length, limit }: { length: number; limit: number },
  json: JsonParser,
  done: Done,
): void {
  let received = 0
  const chunks: Buffer[] = []
  const stop = (): void => {
    payload.removeListener('data', onData)
    payload.removeListener('end', onEnd)
    payload.removeListener('error', onEnd)
  }
  function onData(chunk: Buffer | string): void {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
    received += bytes.length
    if (received > limit || (payload.receivedEncodedLength ?? 0) > limit) {
      stop()
      done(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE(), undefined)
      return
    }
    chunks.push(bytes)
  }
  function onEnd(err?: Error & { statusCode?: number }): void {
    stop()
    if (err != null) {
      if (!(typeof err.statusCode === 'number' && err.statusCode >= 400)) err.statusCode = 400
      return done(err, undefined)
    }
    if (!Number.isNaN(length) && (payload.receivedEncodedLength || received) !== length)
      return done(new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH(), undefined)
    const body = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks, received).toString('utf8')
    json(request, body, done)
  }
  payload.on('data', onData)
  payload.on('end', onEnd)
  payload.on('error', onEnd)
  payload.resume()
}
