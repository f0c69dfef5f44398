import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import type { WebSocket, WebSocketServer } from 'ws'
import { VoxgateError } from '@voxgate/protocol'

/**
 * Completes the client's upgrade for a socket the local fallback serves (`--fallback local`), its 101
 * answer labelled `X-Voxgate-Fallback: local` as a fallback's HTTP answers are; rejects when the
 * client is gone. ws emits `headers` synchronously inside `handleUpgrade` (no `verifyClient` here),
 * and the listener matches this request only, so another handshake is never labelled.
 */
export function completeLocalUpgrade(
  wss: WebSocketServer,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
): Promise<WebSocket> {
  if (socket.destroyed) return Promise.reject(new VoxgateError('invalid_request', 'The client went away.'))
  const label = (headers: string[], request: IncomingMessage) => {
    if (request === req) headers.push('X-Voxgate-Fallback: local')
  }
  wss.on('headers', label)
  try {
    return new Promise<WebSocket>((resolve) => wss.handleUpgrade(req, socket, head, resolve))
  } finally {
    wss.off('headers', label)
  }
}
