import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import { WebSocketServer, type WebSocket } from 'ws'
import type { AppContext } from './app-context.ts'
import type { ClosableTtsSocket, Feature, SocketHandler } from './feature.ts'
import { appFeatures } from './route-table.ts'
import { toVoxgateError } from './errors.ts'
import { requestId } from '../ids.ts'
import { VoxgateError } from '@voxgate/protocol'
import { errorBody } from '../gateway/errors.ts'
import type { Principal } from '../auth/principal.ts'
import { CLOSE_SHUTDOWN } from '../sockets/close-codes.ts'
import { accessTable, routeAccess } from '../http/scopes.ts'
import type { RouteAccess } from '../scopes.ts'

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
}

/**
 * Refuses a handshake with a real HTTP response (status, JSON body, WWW-Authenticate), never with a
 * close frame after opening: clients and proxies see a 401/403 they can act on.
 */
function abortHandshake(socket: Duplex, err: VoxgateError, id: string): void {
  // A refusal the upstream passed through keeps its own error_code (gateway/errors.ts).
  const body = JSON.stringify(errorBody(err, id))
  const headers = [
    `HTTP/1.1 ${err.status} ${STATUS_TEXT[err.status] ?? 'Error'}`,
    'Connection: close',
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    `X-Request-Id: ${id}`,
    ...(err.status === 401 ? ['WWW-Authenticate: Bearer error="invalid_token"'] : []),
    ...(err.code === 'insufficient_scope' ? ['WWW-Authenticate: Bearer error="insufficient_scope"'] : []),
    ...Object.entries(err.headers).map(([k, v]) => `${k}: ${v}`),
  ]
  if (socket.writable) socket.end(`${headers.join('\r\n')}\r\n\r\n${body}`)
  socket.destroy()
}

export interface WebSocketTransport {
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void
  /** Sends every open context a terminal event and closes every socket. */
  close(): void
}

export interface WebSocketTransportOptions {
  /** Whose socket paths the router serves (route-table.ts, the list the app registers); chosen once, at start. */
  features?: readonly Feature[]
}

/**
 * The WebSocket router: each path goes to the feature that owns it, local or relayed alike; an unknown
 * path is a 404 handshake. Every feature checks the credential before the upgrade (ws `noServer` +
 * `handleUpgrade`), so a refusal is an HTTP answer.
 */
export function createWebSocketTransport(ctx: AppContext, options: WebSocketTransportOptions = {}): WebSocketTransport {
  // The hard cap is above the configured limit so an oversized message gets a clear error event
  // instead of ws's bare 1009 close; anything past the cap still closes the socket.
  // UTF-8 is checked by the socket, so a bad frame closes with 1007 only after open contexts hear why.
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: ctx.config.wsMaxPayloadBytes * 2,
    perMessageDeflate: false,
    skipUTF8Validation: true,
  })
  const handlers = socketPaths(options.features ?? appFeatures(ctx))
  const sockets = new Set<ClosableTtsSocket>()
  const track =
    (id: string) =>
    (tts: ClosableTtsSocket, ws: WebSocket, principal: Principal): void => {
      sockets.add(tts)
      // The socket's life counts its close in the metrics (sockets/life.ts).
      ws.on('close', () => sockets.delete(tts))
      ctx.logger.info(
        {
          reqId: id,
          path: '/tts/websocket',
          key_id: principal.keyId,
          sub: principal.kind === 'token' ? principal.sub : undefined,
        },
        'websocket open',
      )
    }
  return {
    handleUpgrade(req, socket, head) {
      const id = requestId()
      socket.on('error', () => socket.destroy())
      const path = (req.url ?? '').split('?')[0] ?? ''
      const route = handlers.get(path)
      if (!route) return abortHandshake(socket, new VoxgateError('not_found', 'No WebSocket at this path.'), id)
      const { handler, access } = route
      // A handler is async: it runs at once up to its first wait, and anything it throws rejects.
      handler({ req, socket, head, id, access, wss, track: track(id) }).catch((err: unknown) =>
        abortHandshake(socket, toVoxgateError(err), id),
      )
    },
    close() {
      for (const s of sockets)
        s.close(CLOSE_SHUTDOWN, new VoxgateError('connection_closing', 'The server is shutting down.'))
      wss.close()
    },
  }
}

interface SocketRoute {
  handler: SocketHandler
  access: RouteAccess
}

/**
 * Every feature's socket paths, in one table, each with its GET route's access decision (its doc's).
 * Two features claiming one path, or a path with no doc, is a mistake at start.
 */
function socketPaths(features: readonly Feature[]): ReadonlyMap<string, SocketRoute> {
  const table = accessTable(features.flatMap((f) => f.docs))
  const paths = new Map<string, SocketRoute>()
  const owners = new Map<string, string>()
  for (const feature of features) {
    for (const [path, handler] of feature.sockets ?? []) {
      const owner = owners.get(path)
      if (owner) throw new Error(`Both ${owner} and ${feature.name} serve WebSocket ${path}.`)
      owners.set(path, feature.name)
      paths.set(path, { handler, access: routeAccess(table, 'GET', path) })
    }
  }
  return paths
}
