import type { Socket } from 'node:net'
import type { RawData, WebSocket } from 'ws'
import { VoxgateError } from '@voxgate/protocol'
import type { Principal } from '../auth/principal.ts'
import type { Clock } from '../clock.ts'
import type { ServerConfig } from '../config.ts'
import type { Metrics } from '../metrics/metrics.ts'
import type { StreamLease, StreamRegistry } from '../streams/registry.ts'
import { CLOSE_CREDENTIAL, CLOSE_IDLE, CLOSE_POLICY, CLOSE_SHUTDOWN } from './close-codes.ts'
import { cutAfterGrace, hardClose } from './hard-close.ts'

/** Messages received but not yet handled; past this the client is flooding the socket. */
export const MAX_PENDING_MESSAGES = 256

/** What a TTS socket's client is told when its token runs out: it can refresh in band. */
const REFRESH_HINT = 'The access token expired; send a refresh_token message to extend the socket.'
/** What an STT socket's client is told: STT sockets have no in-band refresh. */
const REOPEN_HINT = 'The access token expired; open a new socket with a fresh token.'

const FLOODED = 'The socket is not being read, or messages arrive faster than they are served.'

/**
 * Like ws's `readyState`, from the server's side: `open` takes messages; `closing` has stopped taking
 * them (the close began here, or the connection failed) and has freed what the socket held, while the
 * close handshake finishes; `closed` is a socket whose connection is gone, or that was handed over.
 */
export type SocketState = 'open' | 'closing' | 'closed'

/** What a role (local or relayed, TTS or STT) does at each point of the life; the life does the rest. */
export interface SocketRole {
  /** A client message, while the socket is open (the idle timer has been re-armed already). */
  message(data: RawData, isBinary: boolean): void
  /**
   * The close began: every piece of work still open gets its terminal event now, while the socket
   * can still carry it (`err` is why; none for a normal end).
   */
  closing(err: VoxgateError | undefined): void
  /** The life ended (closed here, by the peer, by a failure, or handed over): free what the role holds. Once. */
  teardown(): void
  /** Work in flight that an idle socket waits for (a context still speaking); idle by default. */
  busy?(): boolean
}

/** The parts of the server a socket's life uses (ServerContext has them all). */
export interface SocketLifeContext {
  readonly config: Pick<ServerConfig, 'wsIdleTimeoutMs' | 'wsSessionGraceMs'>
  readonly clock: Clock
  readonly streams: Pick<StreamRegistry, 'watch'>
  readonly metrics: Pick<Metrics, 'websocketClosed'>
}

/** What a server's shutdown ends: each open socket of a kind (stt/service.ts keeps STT's). */
export interface ShutdownRegistry {
  add(socket: { shutdown(): void }): unknown
  delete(socket: { shutdown(): void }): unknown
}

/** What sets one kind of socket apart: TTS sockets (local or relayed) are alike, and so are STT ones. */
export interface SocketKind {
  /** The label of the closes counted in the metrics. */
  readonly endpoint: 'tts' | 'stt'
  /**
   * How a revocation reaches the socket. `watch`: the life watches the credential itself, as a TTS
   * socket holds no stream slot between its contexts. `lease`: the socket is one stream whose lease
   * was opened before it, and the lease's callback calls `revoked`.
   */
  readonly revocation: 'watch' | 'lease'
  /** What the client is told when its token runs out. */
  readonly expiryHint: string
  /** TTS sockets name the error code in the close frame's reason; STT sockets send the code alone. */
  readonly reasonInCloseFrame: boolean
}

/** `/tts/websocket`: contexts come and go, a refresh extends the socket, the close frame names the error. */
export const TTS_SOCKET: SocketKind = {
  endpoint: 'tts',
  revocation: 'watch',
  expiryHint: REFRESH_HINT,
  reasonInCloseFrame: true,
}

/** `/stt/websocket` and `/stt/turns/websocket`: one stream, its lease opened before the upgrade. */
export const STT_SOCKET: SocketKind = {
  endpoint: 'stt',
  revocation: 'lease',
  expiryHint: REOPEN_HINT,
  reasonInCloseFrame: false,
}

export interface SocketLifeOptions {
  ctx: SocketLifeContext
  kind: SocketKind
  /** The client's socket. */
  ws: WebSocket
  /** The client's connection: cut at once on overflow, and after a grace on a credential close. */
  tcp: Socket
  /** The credential the socket runs under; its expiry (plus the session grace) ends the socket. */
  principal: Principal
  role: SocketRole
  /** Where the socket is listed while it lives, for the server's shutdown. */
  registry?: ShutdownRegistry
}

/**
 * One WebSocket's life, the same for every role: the inbox and its cap, the idle and session
 * timers, revocation (4401), overflow (1008 and a TCP reset), terminal events before the close
 * frame, and one teardown whatever ends the socket. Roles keep only their messages.
 */
export class SocketLife {
  #state: SocketState = 'open'
  #tornDown = false
  #principal: Principal
  #watch: StreamLease | undefined
  #idleTimer: NodeJS.Timeout | undefined
  #sessionTimer: NodeJS.Timeout | undefined
  /** Messages are handled one after another, in arrival order, even across awaits. */
  #inbox: Promise<void> = Promise.resolve()
  #pending = 0
  readonly #o: SocketLifeOptions
  readonly #onMessage = (data: RawData, isBinary: boolean): void => {
    if (this.#state !== 'open') return
    this.touch()
    this.#o.role.message(data, isBinary)
  }
  readonly #onClose = (code: number): void => {
    this.#teardown()
    this.#state = 'closed'
    this.#o.ctx.metrics.websocketClosed(this.#o.kind.endpoint, code)
  }
  /** ws follows an error with 'close'; what the socket held is freed now. */
  readonly #onError = (): void => {
    if (this.#state === 'open') this.#state = 'closing'
    this.#teardown()
  }

  constructor(options: SocketLifeOptions) {
    this.#o = options
    this.#principal = options.principal
    options.ws.on('message', this.#onMessage)
    options.ws.on('close', this.#onClose)
    options.ws.on('error', this.#onError)
    options.registry?.add(this)
    this.#watchCredential()
    this.touch()
    this.#armSession()
  }

  get state(): SocketState {
    return this.#state
  }

  /** Activity: the idle timer starts again. Client messages count by themselves; a relay adds its upstream's. */
  touch(): void {
    clearTimeout(this.#idleTimer)
    if (this.#state !== 'open') return
    this.#idleTimer = setTimeout(() => {
      // Work in flight (a context still speaking) is activity; waiting for more input is not.
      if (this.#o.role.busy?.()) return this.touch()
      this.close(CLOSE_IDLE, new VoxgateError('connection_closing', 'The socket was idle for too long.'))
    }, this.#o.ctx.config.wsIdleTimeoutMs)
    this.#idleTimer.unref()
  }

  /** A fresh credential (TTS's in-band refresh): watched from now on, and its expiry is the socket's. */
  renew(principal: Principal): void {
    if (this.#state !== 'open') return
    this.#principal = principal
    this.#watchCredential()
    this.#armSession()
  }

  /**
   * Queues a message's handling behind the ones before it; `onError` hears what it throws. Past
   * MAX_PENDING_MESSAGES waiting, the client is flooding the socket and is cut off.
   */
  serve(handle: () => Promise<void>, onError: (err: unknown) => void): void {
    if (++this.#pending > MAX_PENDING_MESSAGES) return this.overflow()
    this.#inbox = this.#inbox
      .then(handle)
      .catch(onError)
      .finally(() => {
        this.#pending -= 1
      })
  }

  /** A revoked credential closes with 4401; the server's shutdown, told the same way, with 1001. */
  revoked(err: VoxgateError): void {
    this.close(err.code === 'connection_closing' ? CLOSE_SHUTDOWN : CLOSE_CREDENTIAL, err)
  }

  shutdown(): void {
    this.close(CLOSE_SHUTDOWN, new VoxgateError('connection_closing', 'The server is shutting down.'))
  }

  /** A client that floods the socket or does not read it is cut off: memory must stay bounded. */
  overflow(message = FLOODED): void {
    this.close(CLOSE_POLICY, new VoxgateError('rate_limited', message))
    hardClose(this.#o.tcp)
  }

  /** Terminal events first (the role's), then the close frame, then the teardown. Once. */
  close(code: number, err?: VoxgateError): void {
    if (this.#state !== 'open') return
    this.#state = 'closing'
    this.#o.role.closing(err)
    this.#o.ws.close(code, this.#o.kind.reasonInCloseFrame ? err?.code : undefined)
    // A revoked socket must be gone within a second even if its reader lags far behind.
    if (code === CLOSE_CREDENTIAL) cutAfterGrace(this.#o.tcp, () => this.#o.tcp.destroyed)
    this.#teardown()
  }

  /**
   * Gives the socket up without closing it, for another life to take over (a relay whose upstream
   * went, replaced by a local socket): what this one held is freed and it hears nothing more.
   */
  handOver(): void {
    if (this.#state !== 'open') return
    this.#state = 'closed'
    this.#o.ws.off('message', this.#onMessage)
    this.#o.ws.off('close', this.#onClose)
    this.#o.ws.off('error', this.#onError)
    this.#teardown()
  }

  #watchCredential(): void {
    if (this.#o.kind.revocation !== 'watch') return
    this.#watch?.release()
    this.#watch = this.#o.ctx.streams.watch(this.#principal, (err) => this.revoked(err))
  }

  /** A token-authenticated socket lives until the token's expiry plus the session grace. */
  #armSession(): void {
    clearTimeout(this.#sessionTimer)
    const p = this.#principal
    if (p.kind !== 'token') return
    const deadline = p.expiresAtSeconds * 1000 + this.#o.ctx.config.wsSessionGraceMs
    const expire = () => this.close(CLOSE_CREDENTIAL, new VoxgateError('token_expired', this.#o.kind.expiryHint))
    this.#sessionTimer = setTimeout(expire, Math.max(0, deadline - this.#o.ctx.clock.now()))
    this.#sessionTimer.unref()
  }

  #teardown(): void {
    if (this.#tornDown) return
    this.#tornDown = true
    clearTimeout(this.#idleTimer)
    clearTimeout(this.#sessionTimer)
    this.#watch?.release()
    this.#o.registry?.delete(this)
    this.#o.role.teardown()
  }
}
