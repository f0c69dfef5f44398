import type { Socket } from 'node:net'
import type WebSocket from 'ws'
import { VoxgateError, type SttErrorEvent } from '@voxgate/protocol'
import type { Principal } from '../auth/principal.ts'
import type { SttContext } from '../stt/service.ts'
import type { AudioAllowance } from '../stt/allowance.ts'
import type { StreamLease } from '../streams/registry.ts'
import { CLOSE_INTERNAL, CLOSE_POLICY } from '../sockets/close-codes.ts'
import { SocketLife, type SocketRole, STT_SOCKET } from '../sockets/life.ts'
import { PacedSender } from './paced-sender.ts'
import { readSttCommand, type SttCommandKind } from './stt-command.ts'
import { readUpstreamEvent } from './client-frame.ts'
import { idleError, UpstreamIdle } from './upstream-idle.ts'
import type { Upstream } from './upstream.ts'

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
 * upstream key. Backpressure both ways. The socket's life (sockets/life.ts) is the local STT socket's:
 * revocation and token expiry (4401), idleness (1000), shutdown (1001); an upstream that drops the
 * connection ends the client's with an `error` event and 1011.
 */
export class SttRelay {
  readonly #life: SocketLife
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
    const role: SocketRole = {
      message: (data, isBinary) => this.#fromClient(data as Buffer, isBinary),
      closing: (err) => err && this.#sendError(err),
      teardown: () => this.#teardown(),
    }
    const registry = ctx.stt.sockets
    this.#life = new SocketLife({
      ctx,
      kind: STT_SOCKET,
      ws: client,
      tcp: init.tcp,
      principal: init.principal,
      role,
      registry,
    })
    const overflow = () => this.#life.overflow(OUTRUN)
    this.#toUpstream = new PacedSender(upstream, client, overflow)
    this.#toClient = new PacedSender(client, upstream, overflow)
    this.#upstreamIdle = new UpstreamIdle(
      init.api.idleMs,
      () => this.close(CLOSE_INTERNAL, idleError(init.api.idleMs)),
      () => upstream.isPaused,
    )
    upstream.on('message', (data: Buffer, isBinary: boolean) => this.#fromUpstream(data, isBinary))
    upstream.on('close', (code: number) => this.#upstreamClosed(code))
    // A socket error is followed by 'close', handled above.
    upstream.on('error', () => undefined)
    upstream.resume()
  }

  /** The lease's revocation callback: revoked credentials close with 4401, shutdown with 1001. */
  revoked(err: VoxgateError): void {
    this.#life.revoked(err)
  }

  #fromClient(data: Buffer, isBinary: boolean): void {
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
    if (this.#life.state !== 'open') return
    this.#life.touch()
    if (!isBinary && this.#flushesOwed > 0 && readUpstreamEvent(data.toString('utf8'))?.type === 'flush_done')
      this.#flushesOwed -= 1
    this.#watchUpstream()
    if (isBinary) return this.#toClient.send(data, true)
    this.#toClient.send(this.init.api.scrub(data.toString('utf8')))
  }

  /** A normal close (after `done`) ends the client's socket the same way; anything else is a failure. */
  #upstreamClosed(code: number): void {
    if (this.#life.state !== 'open') return
    if (code === 1000) return this.close(1000)
    this.close(CLOSE_INTERNAL, new VoxgateError('upstream_error', 'The upstream closed the connection.'))
  }

  /** Sends `err` (if any) as the last event, then closes both sockets. Idempotent. */
  close(code: number, err?: VoxgateError): void {
    this.#life.close(code, err)
  }

  #sendError(err: VoxgateError): void {
    const event: SttErrorEvent = { type: 'error', ...err.toBody(this.init.requestId), status_code: err.status }
    this.#toClient.send(JSON.stringify(event))
  }

  /** The upstream is closed with the client's socket. */
  #teardown(): void {
    this.#upstreamIdle.hold()
    this.init.allowance.close()
    this.init.lease.release()
    // A paused upstream could not read the close handshake's answer.
    this.init.upstream.resume()
    this.init.upstream.close(1000)
  }
}

const OUTRUN = 'The socket is not being read, or audio arrives faster than the upstream takes it.'
