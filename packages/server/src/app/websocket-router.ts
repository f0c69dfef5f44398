import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { WebSocketServer, type WebSocket } from 'ws'
import type { AppContext } from './app-context.ts'
import { type GatewayContext, inGatewayMode } from '../gateway/gateway-context.ts'
import { authenticateRequest, originOf, queryOf } from '../http/authenticate.ts'
import { toVoxgateError } from './errors.ts'
import { requestId } from '../ids.ts'
import { VoxgateError } from '@voxgate/protocol'
import { STT_SOCKET_PATHS, upgradeStt } from '../stt/upgrade.ts'
import { errorBody } from '../gateway/errors.ts'
import { upgradeSttRelay } from '../gateway/stt-upgrade.ts'
import { openTtsBridge } from '../gateway/tts-upgrade.ts'
import type { Principal } from '../auth/principal.ts'
import { CLOSE_SHUTDOWN } from '../sockets/close-codes.ts'
import { TtsSocket } from '../transports/websocket/socket.ts'

/** What the transport ends at shutdown: a local TTS socket or a relayed one. */
interface ClosableTtsSocket {
  close(code: number, err: VoxgateError): void
}

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

/** `/tts/websocket`: the credential is checked before the upgrade (ws `noServer` + `handleUpgrade`). */
export function createWebSocketTransport(ctx: AppContext): WebSocketTransport {
  // The hard cap is above the configured limit so an oversized message gets a clear error event
  // instead of ws's bare 1009 close; anything past the cap still closes the socket.
  // UTF-8 is checked by the socket, so a bad frame closes with 1007 only after open contexts hear why.
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: ctx.config.wsMaxPayloadBytes * 2,
    perMessageDeflate: false,
    skipUTF8Validation: true,
  })
  const gateway = inGatewayMode(ctx) ? ctx : undefined
  const sockets = new Set<ClosableTtsSocket>()
  const track = (tts: ClosableTtsSocket, ws: WebSocket, id: string, principal: Principal): void => {
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
      const path = (req.url ?? '').split('?')[0]
      const abort = (err: unknown) => abortHandshake(socket, toVoxgateError(err), id)
      // Gateway mode: both TTS and STT sockets are relayed to the upstream, after the same checks.
      if (gateway) return handleGateway(gateway, path, req, socket, head, id, abort)
      if (STT_SOCKET_PATHS.has(path ?? '')) return void upgradeStt(ctx, req, socket, head, id).catch(abort)
      if (path !== '/tts/websocket')
        return abortHandshake(socket, new VoxgateError('not_found', 'No WebSocket at this path.'), id)
      authenticateRequest(ctx, req, queryOf(req.url), { grant: 'tts' }, true, { id }).then((principal) => {
        wss.handleUpgrade(req, socket, head, (ws) => {
          const tcp = socket as Socket
          track(new TtsSocket({ ctx, ws, principal, origin: originOf(req), requestId: id, tcp }), ws, id, principal)
        })
      }, abort)
    },
    close() {
      for (const s of sockets)
        s.close(CLOSE_SHUTDOWN, new VoxgateError('connection_closing', 'The server is shutting down.'))
      wss.close()
    },
  }

  function handleGateway(
    gateway: GatewayContext,
    path: string | undefined,
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    id: string,
    abort: (err: unknown) => void,
  ): void {
    if (STT_SOCKET_PATHS.has(path ?? ''))
      return void upgradeSttRelay(gateway, gateway.upstream, req, socket, head, id).catch(abort)
    if (path !== '/tts/websocket')
      return abortHandshake(socket, new VoxgateError('not_found', 'No WebSocket at this path.'), id)
    openTtsBridge(gateway, gateway.upstream, wss, req, socket, head, id).then(
      ({ bridge, client, principal }) => track(bridge, client, id, principal),
      abort,
    )
  }
}
