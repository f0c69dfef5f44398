import type { Socket } from 'node:net'
import type { RawData, WebSocket } from 'ws'
import { VoxgateError } from '@voxgate/protocol'
import { WsCancelRequest, WsGenerationRequest, WsRefreshToken } from '@voxgate/protocol/schemas'
import type { Principal } from '../auth/principal.ts'
import type { GatewayContext } from './gateway-context.ts'
import { parseOr400 } from '../http/validate.ts'
import { errorEvent } from '../transports/events.ts'
import { CLOSE_INTERNAL, CLOSE_INVALID_DATA, CLOSE_SHUTDOWN } from '../sockets/close-codes.ts'
import { SocketLife, type SocketRole, TTS_SOCKET } from '../sockets/life.ts'
import { identityOf, verifyRefresh, type SocketIdentity } from '../transports/websocket/refresh.ts'
import { FailedIds } from '../transports/websocket/failed-ids.ts'
import { contextIdOf, isObject, type LocalFallback, TtsSocket } from '../transports/websocket/socket.ts'
import { BridgeContext } from './bridge-context.ts'
import type { CircuitTicket } from './circuit-breaker.ts'
import { readClientFrame, readUpstreamEvent } from './client-frame.ts'
import { checkNoDuplicateKeys } from './duplicate-keys.ts'
import { PacedSender, RELAY_HIGH_WATER_BYTES } from './paced-sender.ts'
import type { Upstream } from './upstream.ts'
import type { UpstreamFailureReason } from './upstream-failure.ts'
import { idleError, UpstreamIdle } from './upstream-idle.ts'

/**
 * Gateway mode's `/tts/websocket`: the client's socket bridged to one upstream socket. Every client
 * message is checked as the local socket checks it (size, schema, the token's voices, concurrent
 * streams, rate limit and characters, contexts per socket) before it is forwarded, re-serialized from
 * what was checked (a message with a key twice is refused: voxgate and the upstream could each read
 * another value); a refused one gets a local `error` event and never leaves. Every upstream event is relayed as
 * received (error events cleaned of the upstream key), and the contexts it opens and ends are
 * tracked from them for the ledger. Same terminal-event rules as the local socket: one `done` or
 * `error` per context life, and an id that ended with an error stays ended for the socket's life.
 */
export interface TtsBridgeInit {
  ctx: GatewayContext
  /** The upstream API: its key is scrubbed from the error events relayed. */
  api: Upstream
  client: WebSocket
  /** The upstream socket, opened paused (gateway/upstream-socket.ts); resumed once listened to. */
  upstream: WebSocket
  /**
   * Told of each context's end: its `done` is an answer; a 5xx `error` event, the upstream dropping
   * the connection with a context open, or its stall past the idle limit is a failure.
   */
  circuit: CircuitTicket
  principal: Principal
  /** The client's Origin header, for the refresh check. */
  origin: string | undefined
  requestId: string
  /** The client's connection, cut after the grace on revocation or at once on overflow. */
  tcp: Socket
}

export class TtsBridge {
  readonly #contexts = new Map<string, BridgeContext>()
  readonly #failed = new FailedIds()
  readonly #down: PacedSender
  readonly #identity: SocketIdentity
  /** Runs only while some context is owed output; a quiet socket with nothing owed is not timed. */
  readonly #upstreamIdle: UpstreamIdle
  readonly #life: SocketLife
  /** The local socket that took the client over when the upstream went (`--fallback local`). */
  #successor: TtsSocket | undefined
  private readonly ctx: GatewayContext
  private readonly api: Upstream
  private readonly client: WebSocket
  private readonly upstream: WebSocket
  private readonly circuit: CircuitTicket
  private principal: Principal
  private readonly origin: string | undefined
  private readonly requestId: string
  private readonly tcp: Socket

  constructor(init: TtsBridgeInit) {
    const { ctx, client, upstream, principal } = init
    this.ctx = ctx
    this.api = init.api
    this.client = client
    this.upstream = upstream
    this.circuit = init.circuit
    this.principal = principal
    this.origin = init.origin
    this.requestId = init.requestId
    this.tcp = init.tcp
    this.#identity = identityOf(principal)
    this.#life = new SocketLife({ ctx, kind: TTS_SOCKET, ws: client, tcp: init.tcp, principal, role: this.#role() })
    this.#down = new PacedSender(client, upstream, () => this.#life.overflow())
    // A client that does not read pauses the upstream (PacedSender): the upstream is not idle then.
    this.#upstreamIdle = new UpstreamIdle(
      init.api.idleMs,
      () => this.#stalled(idleError(init.api.idleMs)),
      () => upstream.isPaused,
    )
    upstream.on('message', (data, isBinary) => this.#fromUpstream(data as Buffer, isBinary))
    upstream.on('close', (code) => this.#upstreamGone(code))
    // A socket error is followed by 'close', handled above.
    upstream.on('error', () => undefined)
    upstream.resume()
  }

  /** Every open context hears of the close (and is cancelled upstream); the upstream closes with the client. */
  #role(): SocketRole {
    return {
      message: (data, isBinary) => this.#onMessage(data, isBinary),
      closing: (err) => {
        for (const c of [...this.#contexts.values()]) this.#fail(c, err ?? closedError())
      },
      teardown: () => this.#teardown(),
    }
  }

  get #live(): boolean {
    return this.#life.state === 'open'
  }

  #onMessage(data: RawData, isBinary: boolean): void {
    const frame = readClientFrame(data, isBinary, this.ctx.config.wsMaxPayloadBytes)
    if (frame.kind === 'invalid_utf8') return this.close(CLOSE_INVALID_DATA, frame.error)
    if (frame.kind === 'refused') return this.#reject(frame.error)
    this.#life.serve(
      () => this.#dispatch(frame.msg, frame.text),
      (err) => this.#reject(err, contextIdOf(frame.msg)),
    )
  }

  async #dispatch(msg: unknown, text: string): Promise<void> {
    if (!this.#live) return
    checkNoDuplicateKeys(text)
    if (isObject(msg) && msg.type === 'refresh_token') return this.#refresh(parseOr400(WsRefreshToken, msg, 'message'))
    if (isObject(msg) && msg.cancel === true) {
      const { context_id } = parseOr400(WsCancelRequest, msg, 'message')
      // The context stays open until the upstream's terminal event for it, relayed as it comes.
      const context = this.#contexts.get(context_id)
      if (context?.forwarded) {
        await this.#forward(msg)
        context.sent('', true)
        this.#watchUpstream()
      }
      return
    }
    const request = parseOr400(WsGenerationRequest, msg, 'message')
    if (this.#failed.has(request.context_id)) return
    this.#checkVoice(request.voice)
    const context = this.#contexts.get(request.context_id) ?? (await this.#open(request))
    if (!context || !this.#live) return
    if (!(await context.charge(request.transcript))) {
      // The context ended (its upstream `done`) while the characters were reserved: as locally, a
      // message for an id whose context is done starts a new one.
      return this.#failed.has(request.context_id) || !this.#live ? undefined : this.#dispatch(msg, text)
    }
    if (!this.#live) return
    context.forwarded = true
    await this.#forward(msg)
    context.sent(request.transcript, request.continue !== true)
    this.#watchUpstream()
  }

  /** The upstream idle clock: (re)started while any context is owed output, stopped otherwise. */
  #watchUpstream(): void {
    if ([...this.#contexts.values()].some((c) => c.owed)) this.#upstreamIdle.wait()
    else this.#upstreamIdle.hold()
  }

  /** A new context, checked in the local socket's order: contexts per socket, rate limit, stream slot. */
  async #open(request: WsGenerationRequest): Promise<BridgeContext | undefined> {
    if (this.#contexts.size >= this.ctx.config.wsMaxContexts) {
      throw new VoxgateError('too_many_contexts', `A socket may hold ${this.ctx.config.wsMaxContexts} open contexts.`)
    }
    await this.ctx.rateLimiter.take('tts', this.principal.keyId)
    const lease = await this.ctx.streams.open(this.principal, (err) => this.#life.revoked(err), 'websocket')
    // The socket may have gone while we waited; nothing may be opened for it after that.
    if (!this.#live) return void lease.release()
    const context = new BridgeContext({
      id: request.context_id,
      voiceId: request.voice,
      format: request.output_format,
      ctx: this.ctx,
      principal: this.principal,
      lease,
    })
    this.#contexts.set(request.context_id, context)
    return context
  }

  /** `limits.voices` holds the upstream's voice ids: checked as given, with no local catalogue. */
  #checkVoice(voiceId: string, principal = this.principal): void {
    const allowed = principal.kind === 'token' ? principal.limits?.voices : undefined
    if (allowed && !allowed.includes(voiceId))
      throw new VoxgateError('voice_not_allowed', 'This access token may not use this voice.')
  }

  /**
   * Client → upstream, the message as voxgate read and checked it (never the client's bytes); a slow
   * upstream holds the inbox (and so the client, up to MAX_PENDING_MESSAGES).
   */
  #forward(msg: unknown): Promise<void> {
    if (this.upstream.readyState !== this.upstream.OPEN) return Promise.resolve()
    const text = JSON.stringify(msg)
    if (this.upstream.bufferedAmount < RELAY_HIGH_WATER_BYTES) {
      this.upstream.send(text)
      return Promise.resolve()
    }
    return new Promise((resolve) => this.upstream.send(text, () => resolve()))
  }

  #fromUpstream(data: Buffer, isBinary: boolean): void {
    if (!this.#live) return
    this.#life.touch()
    if (isBinary) return this.#down.send(data, true)
    let text = data.toString('utf8')
    const event = readUpstreamEvent(text)
    const id = typeof event?.context_id === 'string' ? event.context_id : undefined
    // The client already had this context's terminal event from voxgate.
    if (id !== undefined && this.#failed.has(id)) return
    const context = id === undefined ? undefined : this.#contexts.get(id)
    context?.answered()
    if (event?.type === 'chunk') context?.heard(event.data)
    if (event?.type === 'error') text = this.api.scrub(text)
    this.#down.send(text)
    if (event?.type === 'done') this.circuit.answered()
    if (event?.type === 'error') this.#countError(event)
    if (context && (event?.type === 'done' || event?.type === 'error')) {
      context.end()
      this.#contexts.delete(context.id)
      if (event.type === 'error') this.#failed.add(context.id)
    }
    this.#watchUpstream()
  }

  /** An upstream `error` event: a 5xx is the upstream failing; anything else refused the request (an answer). */
  #countError(event: { status_code?: unknown }): void {
    if (typeof event.status_code === 'number' && event.status_code >= 500) this.circuit.failed()
    else this.circuit.answered()
  }

  /**
   * The upstream closed without being asked: every open context hears why, then the client socket
   * closes; with `--fallback local` it stays open instead, and the next context is spoken locally
   * (a context that started upstream never changes voice mid-way).
   */
  #upstreamGone(code: number): void {
    if (!this.#live) return
    const err = new VoxgateError('upstream_error', 'The upstream closed the connection.')
    const failed = this.#contexts.size > 0 || (code !== 1000 && code !== 1001)
    // A context cut, or an abnormal close: the upstream failed; its clean close of a quiet socket says nothing.
    if (failed) this.circuit.failed()
    else this.circuit.abandoned()
    if (this.ctx.fallback) return this.#handOver(err, this.ctx.fallback.socketRequests, 'unreachable')
    this.close(failed ? CLOSE_INTERNAL : CLOSE_SHUTDOWN, err)
  }

  /**
   * The upstream sent nothing for the idle limit while a context was owed output: a failure, and the
   * upstream is lost as if it had dropped (each open context hears `upstream_timeout`); with
   * `--fallback local` the client's socket stays open and goes on locally, as an STT socket does.
   */
  #stalled(err: VoxgateError): void {
    this.circuit.failed()
    if (this.ctx.fallback && this.#live) return this.#handOver(err, this.ctx.fallback.socketRequests, 'timeout')
    this.close(CLOSE_INTERNAL, err)
  }

  /** Ends the relayed contexts with `err`, then hands the client's socket to a local one (fallback). */
  #handOver(err: VoxgateError, fallback: LocalFallback, reason: UpstreamFailureReason): void {
    for (const c of [...this.#contexts.values()]) this.#fail(c, err)
    this.ctx.metrics.fallback(reason)
    this.#life.handOver()
    const { ctx, client: ws, principal, origin, requestId, tcp } = this
    this.#successor = new TtsSocket({ ctx, ws, principal, origin, requestId, tcp, fallback })
  }

  /** The local socket's refresh: the same check, then open contexts move to the fresh token. */
  async #refresh(msg: WsRefreshToken): Promise<void> {
    const principal = await verifyRefresh(this.ctx, msg, this.origin, this.#identity)
    if (!this.#live) return
    const same = this.principal.kind === 'token' && this.principal.jti === principal.jti
    this.principal = principal
    this.#life.renew(principal)
    if (!same) await this.#moveContexts(principal)
    this.#down.send(
      JSON.stringify({
        type: 'token_refreshed',
        expires_at: principal.kind === 'token' ? principal.expiresAtSeconds : null,
      }),
    )
  }

  /** Oldest first, so the newest contexts are the ones the fresh token's limits refuse. */
  async #moveContexts(principal: Principal): Promise<void> {
    for (const c of [...this.#contexts.values()]) {
      try {
        this.#checkVoice(c.voiceId, principal)
        const lease = await this.ctx.streams.open(principal, (err) => this.#life.revoked(err), 'websocket')
        if (c.ended) lease.release()
        else c.setPrincipal(principal, lease)
      } catch (err) {
        if (!c.ended)
          this.#fail(c, err instanceof VoxgateError ? err : new VoxgateError('internal_error', 'The context failed.'))
      }
    }
  }

  #reject(err: unknown, contextId?: string): void {
    const coded =
      err instanceof VoxgateError ? err : new VoxgateError('internal_error', 'The message could not be handled.')
    const context = contextId === undefined ? undefined : this.#contexts.get(contextId)
    if (context) return this.#fail(context, coded)
    if (contextId !== undefined && this.#failed.has(contextId)) return
    // A context refused before it opened (rate limit, voice, the token's streams) counts as a refusal.
    if (contextId !== undefined) this.ctx.refusals.record(this.principal, coded)
    this.#down.send(JSON.stringify(errorEvent(coded, this.requestId, contextId)))
    if (contextId !== undefined) this.#failed.add(contextId)
  }

  /** Ends a context here: the client gets its terminal `error`, the upstream a `cancel`. */
  #fail(context: BridgeContext, err: VoxgateError): void {
    context.end(err)
    this.#contexts.delete(context.id)
    this.#failed.add(context.id)
    this.#down.send(JSON.stringify(errorEvent(err, this.requestId, context.id)))
    if (context.forwarded) void this.#forward({ context_id: context.id, cancel: true })
  }

  /** Ends every open context with `err` (each cancelled upstream), closes the upstream, then the client. */
  close(code: number, err: VoxgateError): void {
    if (this.#successor) return this.#successor.close(code, err)
    this.#life.close(code, err)
  }

  /** The upstream is closed with the client's socket, or when it is handed over. */
  #teardown(): void {
    // Closed for the client's sake (it left, revocation, shutdown): no verdict, unless one came before.
    this.circuit.abandoned()
    this.#upstreamIdle.hold()
    for (const c of this.#contexts.values()) c.end()
    this.#contexts.clear()
    // A paused upstream could not read the close handshake's answer.
    this.upstream.resume()
    this.upstream.close(1000)
  }
}

const closedError = (): VoxgateError => new VoxgateError('connection_closing', 'The socket closed.')
