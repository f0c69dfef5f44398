import type { ClientRequest, IncomingHttpHeaders, IncomingMessage } from 'node:http'
import type { Readable } from 'node:stream'
import { TLSSocket } from 'node:tls'
import { VoxgateError } from '@voxgate/protocol'
import { networkFailure, upstreamFailure } from './errors.ts'
import type { Upstream } from './upstream.ts'

/** One request to the upstream, its headers already chosen (forward-headers.ts). */
export interface UpstreamCall {
  method: 'GET' | 'POST'
  /** The path (from `/`) and the client's query string (`?…` or empty). */
  path: string
  search?: string
  /** The client's headers worth forwarding; the upstream key and Cartesia-Version are added here. */
  headers: Record<string, string>
  cartesiaVersion: string | undefined
  /** A JSON body, or an upload streamed as it arrives (piped: a slow upstream slows the client). */
  body?: string | Readable
  /** Aborts the request (the client went away, the token was revoked); its reason is thrown. */
  signal: AbortSignal
}

/** Error bodies are read up to this many bytes: enough for any message, bounded whatever is sent. */
const MAX_ERROR_BODY = 16 * 1024

/**
 * Sends `call` and resolves with the upstream's response once its status line arrived and is a
 * success; its body is the caller's to read (and to destroy on abort). Anything else throws the
 * client's answer (errors.ts). No connection within `timeoutMs`, or no first byte within `timeoutMs`
 * of the request being sent, is 504: the time a client takes to upload its body does not count.
 */
export function callUpstream(upstream: Upstream, call: UpstreamCall): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    if (call.signal.aborted) return reject(call.signal.reason)
    const headers = { ...call.headers, ...upstream.headers(call.cartesiaVersion) }
    const req = upstream.request(upstream.url(call.path, call.search), {
      method: call.method,
      headers,
      agent: upstream.agent,
    })
    const deadline = watchDeadline(req, upstream.timeoutMs)
    const onAbort = () => req.destroy(call.signal.reason)
    call.signal.addEventListener('abort', onAbort, { once: true })
    const settle = (fn: () => void) => {
      deadline.clear()
      call.signal.removeEventListener('abort', onAbort)
      fn()
    }
    // `on`, not `once`: a socket error after the response (a reset mid-stream) must never go unhandled.
    req.on('error', (err) => settle(() => reject(failureOf(err, call.signal, deadline.expired))))
    req.once('response', (res) => {
      if (res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300)
        return settle(() => resolve(res))
      // The error body gets what is left of the same deadline: an upstream that stalls there is a timeout too.
      readCapped(res).then(
        (text) =>
          settle(() => {
            // Refused before the upload was all sent: the rest of it is not relayed.
            if (!req.writableFinished) req.destroy()
            reject(upstreamFailure(upstream, res.statusCode ?? 502, text, toHeaders(res.headers)))
          }),
        (err: unknown) => settle(() => reject(failureOf(err, call.signal, deadline.expired))),
      )
    })
    sendBody(req, call.body)
  })
}

/** Why a request failed: the abort's reason, a coded failure of the upload itself, or the network. */
function failureOf(err: unknown, signal: AbortSignal, timedOut: boolean): unknown {
  if (signal.aborted) return signal.reason
  if (err instanceof VoxgateError && err.code !== 'upstream_timeout') return err
  return networkFailure(err, timedOut)
}

function sendBody(req: ClientRequest, body: UpstreamCall['body']): void {
  if (body === undefined || typeof body === 'string') {
    req.end(body)
    return
  }
  // A client upload that fails (cut, too large) ends the upstream request with it.
  body.once('error', (err) => req.destroy(err))
  body.pipe(req)
}

interface Deadline {
  readonly expired: boolean
  clear(): void
}

/**
 * The connect-and-first-byte clock: it runs while voxgate waits on the upstream (connecting, then
 * from the end of the request body to the response), and stands still while the body is uploaded.
 */
function watchDeadline(req: ClientRequest, ms: number): Deadline {
  let expired = false
  let done = false
  let timer: NodeJS.Timeout | undefined
  const start = () => {
    clearTimeout(timer)
    if (done) return
    timer = setTimeout(() => {
      expired = true
      req.destroy(new VoxgateError('upstream_timeout', 'The upstream did not answer in time.'))
    }, ms)
  }
  let finished = false
  req.once('finish', () => {
    finished = true
    start()
  })
  const connected = () => {
    if (!finished) clearTimeout(timer)
  }
  req.once('socket', (socket) => {
    // A kept-alive socket is connected already; a new one is once its TLS handshake is done.
    if (!socket.connecting) connected()
    else socket.once(socket instanceof TLSSocket ? 'secureConnect' : 'connect', connected)
  })
  start()
  return {
    get expired() {
      return expired
    },
    clear() {
      done = true
      clearTimeout(timer)
    },
  }
}

/** The response body as text, at most MAX_ERROR_BODY bytes; the rest is dropped with the connection. */
async function readCapped(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of res as AsyncIterable<Buffer>) {
    chunks.push(chunk)
    size += chunk.length
    if (size >= MAX_ERROR_BODY) {
      res.destroy()
      break
    }
  }
  return Buffer.concat(chunks).subarray(0, MAX_ERROR_BODY).toString('utf8')
}

function toHeaders(headers: IncomingHttpHeaders): Headers {
  const out = new Headers()
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value === 'string') out.set(name, value)
  }
  return out
}
