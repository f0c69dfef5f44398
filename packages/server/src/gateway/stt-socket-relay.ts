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
import type { CircuitTicket } from './circuit-breaker.ts'
import type { SttTakeover } from './stt-socket-fallback.ts'
import type { UpstreamFailureReason } from './upstream-failure.ts'
import type { SttSocket } from '../stt/socket.ts'
import type { Recognizer } from '../stt/pool.ts'

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
  /** Told how the socket went: a normal close is an answer; a drop or a stall past the idle limit a failure. */
  circuit: CircuitTicket
  /** `--fallback local` where the local recogniser can hear this socket: it takes over when the upstream goes. */
  takeover?: SttTakeover
}

/**
 * Gateway mode's `/stt/websocket` and `/stt/turns/websocket`: binary audio is metered against the
 * token's audio budget before it is forwarded (a frame past the budget closes the socket, as
 * locally); text commands are read as the local socket reads them and forwarded as read (an unknown
 * one gets the local `error` event and never leaves); upstream events come back as received, cleaned of the
 * upstream key. Backpressure both ways. The socket's life (sockets/life.ts) is the local STT socket's:
 * revocation and token expiry (4401), idleness (1000), shutdown (1001). An upstream that drops the
 * connection (or stalls past the idle limit) ends the client's socket with an `error` event and
 * 1011; with `--fallback local` the error event is sent and the socket stays open: the local
 * recogniser takes it over (stt-socket-fallback.ts) and hears the audio that arrives from then on,
 * its events labelled `fallback: "local"`. The audio the upstream already had is not heard again:
 * it was charged once, as it was forwarded, and replaying it would charge it twice.
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
  /** The client's frames held while the local recogniser is fetched (`--fallback local`); undefined otherwise. */
  #held: { data: Buffer; isBinary: boolean }[] | undefined
  #heldBytes = 0
  /** The local socket that took the client over. */
  #successor: SttSocket | undefined
  #handedOver = false

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
      () => this.#lost(idleError(init.api.idleMs)),
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
    if (this.#successor) return this.#successor.revoked(err)
    this.#life.revoked(err)
  }

  #fromClient(data: Buffer, isBinary: boolean): void {
    if (this.#held) return this.#hold(data, isBinary)
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
    if (this.#life.state !== 'open' || this.#held) return
    this.#life.touch()
    if (!isBinary && this.#flushesOwed > 0 && readUpstreamEvent(data.toString('utf8'))?.type === 'flush_done')
      this.#flushesOwed -= 1
    this.#watchUpstream()
    if (isBinary) return this.#toClient.send(data, true)
    this.#toClient.send(this.init.api.scrub(data.toString('utf8')))
  }

  /** A normal close (after `done`) ends the client's socket the same way; anything else is a failure. */
  #upstreamClosed(code: number): void {
    if (this.#life.state !== 'open' || this.#held) return
    if (code === 1000) {
      this.init.circuit.answered()
      return this.close(1000)
    }
    this.#lost(new VoxgateError('upstream_error', 'The upstream closed the connection.'))
  }

  /**
   * The upstream went (dropped, or silent past the idle limit): a failure. Without a takeover, or
   * once the client asked for the end (there is nothing left to hear), the client's socket closes
   * with `err` and 1011; otherwise `err` is sent and the local recogniser takes the socket over.
   */
  #lost(err: VoxgateError): void {
    if (this.#life.state !== 'open' || this.#held) return
    this.init.circuit.failed()
    const { takeover } = this.init
    if (!takeover || this.#endOwed) return this.close(CLOSE_INTERNAL, err)
    this.#upstreamIdle.hold()
    this.#sendError(err)
    this.#held = []
    const reason = err.code === 'upstream_timeout' ? 'timeout' : 'unreachable'
    takeover.recognizer().then(
      (recognizer) => this.#handOver(takeover, recognizer, reason),
      (refused: unknown) => this.close(CLOSE_INTERNAL, coded(refused)),
    )
  }

  /** What the client sent while the recogniser was fetched waits for it, within the recogniser's own backlog. */
  #hold(data: Buffer, isBinary: boolean): void {
    this.#heldBytes += data.length
    if (this.#heldBytes > this.init.bytesPerSecond * this.init.ctx.config.sttMaxBacklogSeconds)
      return this.#life.overflow(OUTRUN)
    this.#held?.push({ data, isBinary })
  }

  /** The local socket takes the client's: this one lets go (the slot and allowance go with it), then the held frames follow. */
  #handOver(takeover: SttTakeover, recognizer: Recognizer, reason: UpstreamFailureReason): void {
    if (this.#life.state !== 'open') return recognizer.release()
    const held = this.#held ?? []
    this.#handedOver = true
    this.#life.handOver()
    this.#successor = takeover.serve(this.init.client, recognizer, reason)
    // Through the socket's own listener, so the local socket meters and checks them as any frame.
    for (const { data, isBinary } of held) this.init.client.emit('message', data, isBinary)
  }

  /** Sends `err` (if any) as the last event, then closes both sockets. Idempotent. */
  close(code: number, err?: VoxgateError): void {
    if (this.#successor) return this.#successor.close(code, err)
    this.#life.close(code, err)
  }

  #sendError(err: VoxgateError): void {
    const event: SttErrorEvent = { type: 'error', ...err.toBody(this.init.requestId), status_code: err.status }
    this.#toClient.send(JSON.stringify(event))
  }

  /** The upstream is closed with the client's socket; a socket handed over keeps its slot and allowance. */
  #teardown(): void {
    this.#upstreamIdle.hold()
    this.init.circuit.abandoned()
    if (!this.#handedOver) {
      this.init.allowance.close()
      this.init.lease.release()
    }
    // A paused upstream could not read the close handshake's answer.
    this.init.upstream.resume()
    this.init.upstream.close(1000)
  }
}

const coded = (err: unknown): VoxgateError =>
  err instanceof VoxgateError ? err : new VoxgateError('internal_error', 'The local recogniser failed.')

const OUTRUN = 'The socket is not being read, or audio arrives faster than the upstream takes it.'
