import type { Socket } from 'node:net'
import type WebSocket from 'ws'
import { VoxgateError, type SttErrorEvent } from '@voxgate/protocol'
import type { Principal } from '../auth/principal.ts'
import type { SttContext } from '../stt/service.ts'
import type { AudioAllowance } from '../stt/allowance.ts'
import type { StreamLease } from '../streams/registry.ts'
import { cutAfterGrace, hardClose } from '../sockets/hard-close.ts'
import { CLOSE_CREDENTIAL, CLOSE_IDLE, CLOSE_INTERNAL, CLOSE_POLICY, CLOSE_SHUTDOWN } from '../sockets/close-codes.ts'
import { PacedSender } from './paced-sender.ts'
import { readSttCommand, type SttCommandKind } from './stt-command.ts'
import { readUpstreamEvent } from './client-frame.ts'
import { idleError, UpstreamIdle } from './upstream-idle.ts'
import type { Upstream } from './upstream.ts'
import { armSessionTimer, REOPEN_HINT } from '../transports/websocket/session-timer.ts'

/** Commands (as forwarded) after which the upstream owes the stream's end; a turns `config` owes nothing. */
const END_COMMANDS = new Set(['close', 'done', JSON.stringify({ type: 'close' })])

export interface SttRelayInit {
  ctx: SttContext
  /** The upstream API: its key is scrubbed from the events relayed. */
  api: Upstream
  client: WebSocket
  upstream: WebSocket
  tcp: Socket
  principal: Principal
  lease: StreamLease
  /** The stream's audio, metered against the token's budget as it is forwarded. */
  allowance: AudioAllowance
  requestId: string
  /** From the query's encoding and sample rate: what one second of the client's audio weighs. */
  bytesPerSecond: number
  /** How the client's text commands read: bare words (`/stt/websocket`) or JSON (`/stt/turns/websocket`). */
  commands: SttCommandKind
}

/**
 * Gateway mode's `/stt/websocket` and `/stt/turns/websocket`: binary audio is metered against the
 * token's audio budget before it is forwarded (a frame past the budget closes the socket, as
 * locally); text commands are read as the local socket reads them and forwarded as read (an unknown
 * one gets the local `error` event and never leaves); upstream events come back as received, cleaned of the
 * upstream key. Backpressure both ways. The stream slot, revocation and token expiry (4401),
 * idleness (1000) and shutdown (1001) are the local STT socket's; an upstream that drops the
 * connection ends the client's with an `error` event and 1011.
 */
export class SttRelay {
  #closed = false
  #idleTimer: NodeJS.Timeout | undefined
  #sessionTimer: NodeJS.Timeout | undefined
  readonly #toUpstream: PacedSender
  readonly #toClient: PacedSender
  /**
   * Runs while a command awaits its answer (`finalize` its `flush_done`, `close` the end): streamed
   * audio alone owes nothing (silence has no transcript), so an upstream quiet then is not timed.
   */
  readonly #upstreamIdle: UpstreamIdle
  #flushesOwed = 0
  #endOwed = false

  constructor(private readonly init: SttRelayInit) {
    const { ctx, client, upstream } = init
    this.#toUpstream = new PacedSender(upstream, client, () => this.#overflow())
    this.#toClient = new PacedSender(client, upstream, () => this.#overflow())
    this.#upstreamIdle = new UpstreamIdle(
      init.api.idleMs,
      () => this.close(CLOSE_INTERNAL, idleError(init.api.idleMs)),
      () => upstream.isPaused,
    )
    ctx.stt.sockets.add(this)
    client.on('message', (data: Buffer, isBinary: boolean) => this.#fromClient(data, isBinary))
    client.on('close', () => this.#cleanup())
    client.on('error', () => this.#cleanup())
    upstream.on('message', (data: Buffer, isBinary: boolean) => this.#fromUpstream(data, isBinary))
    upstream.on('close', (code: number) => this.#upstreamClosed(code))
    // A socket error is followed by 'close', handled above.
    upstream.on('error', () => undefined)
    upstream.resume()
    this.#touch()
    this.#armSessionTimer()
  }

  /** The lease's revocation callback: revoked credentials close with 4401, shutdown with 1001. */
  revoked(err: VoxgateError): void {
    this.close(err.code === 'connection_closing' ? CLOSE_SHUTDOWN : CLOSE_CREDENTIAL, err)
  }

  shutdown(): void {
    this.close(CLOSE_SHUTDOWN, new VoxgateError('connection_closing', 'The server is shutting down.'))
  }

  #fromClient(data: Buffer, isBinary: boolean): void {
    if (this.#closed) return
    this.#touch()
    if (!isBinary) return this.#command(data.toString('utf8'))
    if (data.length === 0) return
    const refused = this.init.allowance.take(data.length / this.init.bytesPerSecond)
    if (refused) return this.close(CLOSE_POLICY, refused)
    this.#toUpstream.send(data, true)
  }

  #command(text: string): void {
    let command: string
    try {
      command = readSttCommand(text, this.init.commands)
    } catch (err) {
      return this.#sendError(err as VoxgateError)
    }
    this.#toUpstream.send(command)
    if (command === 'finalize') this.#flushesOwed += 1
    else if (END_COMMANDS.has(command)) this.#endOwed = true
    this.#watchUpstream()
  }

  #watchUpstream(): void {
    if (this.#flushesOwed > 0 || this.#endOwed) this.#upstreamIdle.wait()
    else this.#upstreamIdle.hold()
  }

  #fromUpstream(data: Buffer, isBinary: boolean): void {
    if (this.#closed) return
    this.#touch()
    if (!isBinary && this.#flushesOwed > 0 && readUpstreamEvent(data.toString('utf8'))?.type === 'flush_done')
      this.#flushesOwed -= 1
    this.#watchUpstream()
    if (isBinary) return this.#toClient.send(data, true)
    this.#toClient.send(this.init.api.scrub(data.toString('utf8')))
  }

  /** A normal close (after `done`) ends the client's socket the same way; anything else is a failure. */
  #upstreamClosed(code: number): void {
    if (this.#closed) return
    if (code === 1000) return this.close(1000)
    this.close(CLOSE_INTERNAL, new VoxgateError('upstream_error', 'The upstream closed the connection.'))
  }

  /** Sends `err` (if any) as the last event, then closes both sockets. Idempotent. */
  close(code: number, err?: VoxgateError): void {
    if (this.#closed) return
    if (err) this.#sendError(err)
    this.init.client.close(code)
    if (code === CLOSE_CREDENTIAL) cutAfterGrace(this.init.tcp, () => this.init.tcp.destroyed)
    this.#cleanup()
  }

  #sendError(err: VoxgateError): void {
    const event: SttErrorEvent = { type: 'error', ...err.toBody(this.init.requestId), status_code: err.status }
    this.#toClient.send(JSON.stringify(event))
  }

  #overflow(): void {
    this.close(
      CLOSE_POLICY,
      new VoxgateError(
        'rate_limited',
        'The socket is not being read, or audio arrives faster than the upstream takes it.',
      ),
    )
    hardClose(this.init.tcp)
  }

  #touch(): void {
    clearTimeout(this.#idleTimer)
    this.#idleTimer = setTimeout(
      () => this.close(CLOSE_IDLE, new VoxgateError('connection_closing', 'The socket was idle for too long.')),
      this.init.ctx.config.wsIdleTimeoutMs,
    )
    this.#idleTimer.unref()
  }

  #armSessionTimer(): void {
    this.#sessionTimer = armSessionTimer(
      this.init.ctx,
      this.init.principal,
      (err) => this.close(CLOSE_CREDENTIAL, err),
      REOPEN_HINT,
    )
  }

  #cleanup(): void {
    if (this.#closed) return
    this.#closed = true
    this.#upstreamIdle.hold()
    clearTimeout(this.#idleTimer)
    clearTimeout(this.#sessionTimer)
    this.init.allowance.close()
    this.init.lease.release()
    this.init.ctx.stt.sockets.delete(this)
    // A paused upstream could not read the close handshake's answer.
    this.init.upstream.resume()
    this.init.upstream.close(1000)
  }
}
