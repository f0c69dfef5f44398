import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import type { WebSocket, WebSocketServer } from 'ws'
import type { VoxgateError } from '@voxgate/protocol'
import type { Principal } from '../auth/principal.ts'
import type { Guard } from '../http/guard.ts'
import type { RouteDoc } from '../http/route-doc.ts'
import type { RouteAccess } from '../scopes.ts'

/** What the transport ends at shutdown: a local TTS socket or a relayed one. */
export interface ClosableTtsSocket {
  close(code: number, err: VoxgateError): void
}

/** One WebSocket handshake, as the router hands it to the feature that owns its path. */
export interface Upgrade {
  req: IncomingMessage
  socket: Duplex
  head: Buffer
  /** The request id, answered in `X-Request-Id` and logged. */
  id: string
  /** The path's access decision (http/scopes.ts), from its GET route's doc. */
  access: RouteAccess
  /** The router's WebSocket server (`noServer`): one set of frame limits for every TTS socket. */
  wss: WebSocketServer
  /** Hands an opened TTS socket to the router, which logs it and closes it at shutdown. */
  track(tts: ClosableTtsSocket, ws: WebSocket, principal: Principal): void
}

/**
 * Takes a handshake over. A rejection before the upgrade is refused as an HTTP response with the
 * error's status and body (the router's abortHandshake).
 */
export type SocketHandler = (upgrade: Upgrade) => Promise<void>

/**
 * A group of routes: the operators' (keys, quotas, webhooks, audit…), the status routes, and speech,
 * speech to text, voices, the voice changer and OpenAI's routes, these served locally or relayed to
 * the upstream. Which of the two is chosen once, at start (speech-features.ts); the route table
 * (route-table.ts) lists every feature, and the app, the WebSocket router, the OpenAPI document and
 * the access decisions all read that one list, so none asks which mode the server runs in.
 */
export interface Feature {
  /** For reading and for errors (two features claiming one socket path). */
  readonly name: string
  routes(app: FastifyInstance, guard: Guard): void
  /**
   * One doc per route `routes` registers (a WebSocket path is its GET route): what OpenAPI says of it
   * and the access decision the guard checks (http/route-doc.ts). Local and relayed share one list.
   */
  readonly docs: readonly RouteDoc[]
  /** Its WebSocket paths and what takes each handshake over. */
  readonly sockets?: ReadonlyMap<string, SocketHandler>
}
