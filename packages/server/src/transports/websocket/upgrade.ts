import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { WebSocketServer } from 'ws'
import type { ServerContext } from '../../context.ts'
import { authenticateRequest, originOf, queryOf } from '../../http/authenticate.ts'
import { toVoxgateError } from '../../http/errors.ts'
import { requestId } from '../../ids.ts'
import { VoxgateError } from '@voxgate/protocol'
import { STT_SOCKET_PATHS, upgradeStt } from '../../stt/upgrade.ts'
import { CLOSE_SHUTDOWN, TtsSocket } from './socket.ts'

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 429: 'Too Many Requests', 500: 'Internal Server Error', 503: 'Service Unavailable' }

/**
 * Refuses a handshake with a real HTTP response (status, JSON body, WWW-Authenticate), never with a
 * close frame after opening: clients and proxies see a 401/403 they can act on.
 */
function abortHandshake(socket: Duplex, err: VoxgateError, id: string): void {
  const body = JSON.stringify(err.toBody(id))
  const headers = [
    `HTTP/1.1 ${err.status} ${STATUS_TEXT[err.status] ?? 'Error'}`, 'Connection: close', 'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(body)}`, `X-Request-Id: ${id}`,
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
export function createWebSocketTransport(ctx: ServerContext): WebSocketTransport {
  // The hard cap is above the configured limit so an oversized message gets a clear error event
  // instead of ws's bare 1009 close; anything past the cap still closes the socket.
  // UTF-8 is checked by the socket, so a bad frame closes with 1007 only after open contexts hear why.
  const wss = new WebSocketServer({ noServer: true, maxPayload: ctx.config.wsMaxPayloadBytes * 2, perMessageDeflate: false, skipUTF8Validation: true })
  const sockets = new Set<TtsSocket>()
  return {
    handleUpgrade(req, socket, head) {
      const id = requestId()
      socket.on('error', () => socket.destroy())
      const path = (req.url ?? '').split('?')[0]
      if (STT_SOCKET_PATHS.has(path ?? '')) return void upgradeStt(ctx, req, socket, head, id).catch((err: unknown) => abortHandshake(socket, toVoxgateError(err), id))
      if (path !== '/tts/websocket') return abortHandshake(socket, new VoxgateError('not_found', 'No WebSocket at this path.'), id)
      authenticateRequest(ctx, req, queryOf(req.url), { grant: 'tts' }, true).then(
        (principal) => {
          wss.handleUpgrade(req, socket, head, (ws) => {
            const tts = new TtsSocket(ctx, ws, principal, originOf(req), id, socket as Socket)
            sockets.add(tts)
            ws.on('close', (code: number) => {
              sockets.delete(tts)
              ctx.metrics.websocketClosed('tts', code)
            })
            ctx.logger.info({ reqId: id, path, key_id: principal.keyId, sub: principal.kind === 'token' ? principal.sub : undefined }, 'websocket open')
          })
        },
        (err: unknown) => abortHandshake(socket, toVoxgateError(err), id),
      )
    },
    close() {
      for (const s of sockets) s.close(CLOSE_SHUTDOWN, new VoxgateError('connection_closing', 'The server is shutting down.'))
      wss.close()
    },
  }
}
