import type { IncomingMessage } from 'node:http'
import WebSocket from 'ws'
import { queryOf } from '../http/authenticate.ts'
import { networkFailure, upstreamFailure } from './errors.ts'
import { cartesiaVersionOf, checkQueryVersion } from './forward-headers.ts'
import type { Upstream } from './upstream.ts'

/** Query parameters that carry the client's credential: voxgate's to check, never the upstream's to see. */
const CREDENTIAL_PARAMS = ['access_token', 'api_key']
/** A refused handshake's body is read up to this many bytes (it only feeds an error message). */
const MAX_REFUSAL_BODY_BYTES = 16 * 1024
/**
 * The largest upstream message taken (ws's own default is 100 MiB). A Cartesia chunk event holds a
 * fraction of a second of audio; anything near this is not speech.
 */
export const UPSTREAM_MAX_PAYLOAD_BYTES = 16 * 1024 * 1024

/** The client's query string without its credential, for the upstream URL (`?…` or empty). */
export function upstreamSearch(query: URLSearchParams): string {
  checkQueryVersion(query)
  const forwarded = new URLSearchParams(query)
  for (const name of CREDENTIAL_PARAMS) forwarded.delete(name)
  const search = forwarded.toString()
  return search ? `?${search}` : ''
}

/**
 * Opens the upstream socket for a client's handshake at the same path: the upstream key and the
 * client's `Cartesia-Version` (a date, or the handshake is refused 400) in headers, nothing else of the client's (no credential, cookie or
 * Origin). A refusal or a failure rejects with the coded error the client's handshake gets
 * (gateway/errors.ts); the connection and the upstream's answer must come within `timeoutMs`.
 * The socket resolves paused: the caller resumes it once its listeners are attached.
 */
export function connectUpstream(upstream: Upstream, path: string, req: IncomingMessage): Promise<WebSocket> {
  const version = cartesiaVersionOf(req.headers)
  const url = upstream.socketUrl(path, upstreamSearch(queryOf(req.url)))
  const ws = new WebSocket(url, {
    headers: upstream.headers(version),
    perMessageDeflate: false,
    followRedirects: false,
    maxPayload: UPSTREAM_MAX_PAYLOAD_BYTES,
  })
  return new Promise((resolve, reject) => {
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      ws.terminate()
    }, upstream.timeoutMs)
    ws.once('open', () => {
      clearTimeout(timer)
      // What the upstream sends at once (the turns socket's `connected`) must wait for the relay's
      // listeners, which are attached a few awaits later: ws drops messages nobody listens to.
      ws.pause()
      resolve(ws)
    })
    ws.once('unexpected-response', (_request, res) => {
      readCapped(res, (body) => {
        clearTimeout(timer)
        reject(upstreamFailure(upstream, res.statusCode ?? 502, body, fetchHeaders(res)))
        ws.terminate()
      })
    })
    // After a refusal this only reports the abort above (the promise is settled by then).
    ws.on('error', (err) => {
      clearTimeout(timer)
      reject(networkFailure(err, timedOut))
    })
  })
}

/** A 429's retry hints travel on (gateway/errors.ts reads them from fetch-style headers). */
function fetchHeaders(res: IncomingMessage): Headers {
  const headers = new Headers()
  for (const [name, value] of Object.entries(res.headers)) {
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value)
  }
  return headers
}

function readCapped(res: IncomingMessage, done: (body: string) => void): void {
  const parts: Buffer[] = []
  let size = 0
  let finished = false
  const finish = () => {
    if (finished) return
    finished = true
    done(Buffer.concat(parts).toString('utf8'))
  }
  res.on('data', (chunk: Buffer) => {
    if (size >= MAX_REFUSAL_BODY_BYTES) return
    parts.push(chunk.subarray(0, MAX_REFUSAL_BODY_BYTES - size))
    size += chunk.length
    if (size >= MAX_REFUSAL_BODY_BYTES) {
      res.destroy()
      finish()
    }
  })
  res.once('end', finish)
  res.once('error', finish)
}
