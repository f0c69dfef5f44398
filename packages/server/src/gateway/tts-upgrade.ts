import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import type { WebSocketServer } from 'ws'
import type WebSocket from 'ws'
import { VoxgateError } from '@voxgate/protocol'
import type { Principal } from '../auth/principal.ts'
import type { GatewayContext } from './gateway-context.ts'
import { authenticateRequest, type HandshakeRoute, originOf, queryOf } from '../http/authenticate.ts'
import { type CircuitTicket, startThrough } from './circuit-breaker.ts'
import { TtsBridge } from './socket-bridge.ts'
import type { Upstream } from './upstream.ts'
import { connectUpstream } from './upstream-socket.ts'
import { upstreamFailureReason } from './upstream-failure.ts'
import { TtsSocket } from '../transports/websocket/socket.ts'
import { completeLocalUpgrade } from './local-upgrade.ts'

/**
 * Gateway mode's `/tts/websocket` handshake: the client's credential is checked first (nothing
 * reaches the upstream for a refused client), then the upstream socket is opened, and only then is
 * the client's upgrade completed, so an upstream refusal or timeout is an HTTP answer on the client's
 * handshake (502/504), never an open socket that closes at once.
 */
export async function openTtsBridge(
  ctx: GatewayContext,
  api: Upstream,
  wss: WebSocketServer,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  { id: requestId, access }: HandshakeRoute,
): Promise<OpenedBridge> {
  const principal = await authenticateRequest(ctx, req, queryOf(req.url), { grant: 'tts' }, true, {
    id: requestId,
    access,
  })
  // A revocation that lands while the upstream socket opens refuses the handshake (the bridge's own
  // watch starts only once it exists).
  let revokedEarly: VoxgateError | undefined
  const watch = ctx.streams.watch(principal, (err) => (revokedEarly = err))
  try {
    let upstream: WebSocket
    let circuit: CircuitTicket
    try {
      ;({ value: upstream, ticket: circuit } = await startThrough(ctx.circuit, () =>
        connectUpstream(api, '/tts/websocket', req),
      ))
    } catch (err) {
      const reason = ctx.fallback && upstreamFailureReason(err)
      if (!ctx.fallback || !reason) throw err
      if (revokedEarly) throw revokedEarly
      // --fallback local: the whole socket is spoken by the offline engines, every event labelled.
      ctx.metrics.fallback(reason)
      const client = await completeLocalUpgrade(wss, req, socket, head)
      const local = new TtsSocket({
        ctx,
        ws: client,
        principal,
        origin: originOf(req),
        requestId,
        tcp: socket as Socket,
        fallback: ctx.fallback.socketRequests,
      })
      return { bridge: local, client, principal }
    }
    if (revokedEarly) {
      circuit.abandoned()
      upstream.terminate()
      throw revokedEarly
    }
    const client = await completeUpgrade(wss, req, socket, head, upstream).catch((err: unknown) => {
      circuit.abandoned()
      throw err
    })
    const bridge = new TtsBridge({
      ctx,
      api,
      client,
      upstream,
      circuit,
      principal,
      origin: originOf(req),
      requestId,
      tcp: socket as Socket,
    })
    return { bridge, client, principal }
  } finally {
    watch.release()
  }
}

export interface OpenedBridge {
  /** The relay, or (the upstream failed, `--fallback local`) a local socket speaking in its stead. */
  bridge: TtsBridge | TtsSocket
  client: WebSocket
  principal: Principal
}

/**
 * Completes the client's upgrade, or closes the upstream socket when the client is gone or its
 * handshake is malformed (ws answers that itself and never calls back).
 */
export function completeUpgrade(
  wss: WebSocketServer,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  upstream: WebSocket,
): Promise<WebSocket> {
  const gone = () => new VoxgateError('invalid_request', 'The client went away.')
  if (socket.destroyed) {
    upstream.terminate()
    return Promise.reject(gone())
  }
  return new Promise((resolve, reject) => {
    const onClose = () => {
      upstream.terminate()
      reject(gone())
    }
    socket.once('close', onClose)
    wss.handleUpgrade(req, socket, head, (ws) => {
      socket.off('close', onClose)
      resolve(ws)
    })
  })
}
