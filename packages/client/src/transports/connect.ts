import { ConnectionError } from '../errors.ts'
import { apiUrl, type ApiContext } from '../lib/http.ts'
import { assertSecureUrl } from '../safety.ts'
import type { WebSocketConstructor, WebSocketLike } from '../types.ts'

/**
 * Opens a WebSocket to `path` on the voice API. The token rides in the query (`?access_token=`), as
 * browsers must and Cartesia's own SDKs do; cookie mode (`token` undefined) lets the browser send the
 * HttpOnly cookie. Fails with `ERR_SOCKET_CONNECT` (browsers cannot see a refused handshake's status).
 */
export function openWebSocket(
  api: ApiContext,
  WS: WebSocketConstructor | undefined,
  path: string,
  query: Record<string, string | number | undefined>,
  token: string | undefined,
): Promise<WebSocketLike> {
  const Ctor = WS ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket
  if (!Ctor)
    throw new TypeError('No WebSocket implementation: pass options.WebSocket (for example the ws package) in Node 20')
  const url = apiUrl(api.baseUrl, path, { ...query, cartesia_version: api.version, access_token: token })
  url.protocol = url.protocol === 'http:' ? 'ws:' : 'wss:'
  assertSecureUrl(url)
  return new Promise((resolve, reject) => {
    const ws = new Ctor(url.href)
    ws.onopen = () => resolve(ws)
    ws.onerror = () => undefined
    // No `cause`: the event's target carries the URL, and the URL carries the token.
    ws.onclose = (ev) =>
      reject(
        new ConnectionError(
          'ERR_SOCKET_CONNECT',
          `The WebSocket to ${url.host} could not be opened (close code ${ev.code}).`,
          ev.code,
        ),
      )
  })
}
