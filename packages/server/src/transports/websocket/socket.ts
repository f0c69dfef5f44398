import { isUtf8 } from 'node:buffer'
import type { Socket } from 'node:net'
import type { RawData, WebSocket } from 'ws'
import { VoxgateError } from '@voxgate/protocol'
import { WsCancelRequest, WsGenerationRequest, WsRefreshToken } from '@voxgate/protocol/schemas'
import type { Principal } from '../../auth/principal.ts'
import type { ServerContext } from '../../context.ts'
import { parseOr400 } from '../../http/validate.ts'
import { CLOSE_INVALID_DATA } from '../../sockets/close-codes.ts'
import { SocketLife, type SocketRole, TTS_SOCKET } from '../../sockets/life.ts'
import { checkSpeechRequest } from '../prepare.ts'
import { TtsContext } from './context.ts'
import { identityOf, verifyRefresh, type SocketIdentity } from './refresh.ts'
import { FailedIds } from './failed-ids.ts'
import { socketSink, type EventSink } from './sink.ts'

/** One authenticated `/tts/websocket` connection, as the router and the gateway hand it over. */
export interface TtsSocketInit {
  ctx: ServerContext
  ws: WebSocket
  principal: Principal
  /** The client's Origin header, for the refresh check. */
  origin: string | undefined
  requestId: string
  /** The client's connection, cut after the grace on revocation or at once on overflow. */
  tcp: Socket
  /**
   * Gateway mode's local fallback (gateway/fallback.ts): generation requests arrive in the upstream's
   * terms (its voice ids, checked against the token as such) and are turned into local ones; every
   * event says `fallback: "local"` and the ledger counts the characters as a fallback's.
   */
  fallback?: LocalFallback
}

export interface LocalFallback {
  localRequest(raw: unknown): WsGenerationRequest | undefined
}

/**
 * One authenticated `/tts/websocket` connection: routes JSON messages to contexts by `context_id`,
 * enforces the message-size and context-count limits with error events (the socket stays open), and
 * before it closes sends a terminal event for every open context (SDK4 has no close listener). The
 * socket's life (inbox, timers, revocation, overflow, teardown) is sockets/life.ts's.
 *
 * One terminal event per context id's life: a context ends with exactly one `done` or `error`. After
 * `done` the id is free, and a later request with it starts a new context. After an `error` (a
 * context that failed, or a request refused before its context could open, such as an unknown voice)
 * the id stays ended for the socket's life: further messages for it (`continue`, flush, end of
 * input, cancel, even malformed ones) are ignored without an event, since the client was already told.
 */
export class TtsSocket {
  readonly #contexts = new Map<string, TtsContext>()
  /** Ids whose life ended with an `error` (see the class comment). */
  readonly #failed = new FailedIds()
  readonly #sink: EventSink
  readonly #life: SocketLife
  private readonly ctx: ServerContext
  readonly #origin: string | undefined
  readonly #fallback: LocalFallback | undefined
  #principal: Principal
  /** Who the socket belongs to, fixed for its life: a refresh may extend it, never hand it over. */
  readonly #identity: SocketIdentity

  constructor(init: TtsSocketInit) {
    const { ctx, ws, principal } = init
    this.ctx = ctx
    this.#principal = principal
    this.#origin = init.origin
    this.#fallback = init.fallback
    this.#identity = identityOf(principal)
    this.#life = new SocketLife({ ctx, kind: TTS_SOCKET, ws, tcp: init.tcp, principal, role: this.#role() })
    this.#sink = socketSink(ws, init.requestId, () => this.#life.overflow(), init.fallback ? { fallback: 'local' } : {})
  }

  /** What this socket does at each point of its life: its contexts hear of the close, and end with it. */
  #role(): SocketRole {
    return {
      message: (data, isBinary) => this.#onMessage(data, isBinary),
      closing: (err) => {
        for (const c of this.#contexts.values()) c.fail(err ?? closedError())
      },
      teardown: () => {
        for (const c of this.#contexts.values()) c.fail(closedError())
        this.#contexts.clear()
      },
      // A context waiting for more input is not activity; only one still speaking is.
      busy: () => [...this.#contexts.values()].some((c) => c.busy),
    }
  }

  get #open(): boolean {
    return this.#life.state === 'open'
  }

  #onMessage(data: RawData, isBinary: boolean): void {
    const size = Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : (data as Buffer).byteLength
    if (size > this.ctx.config.wsMaxPayloadBytes) {
      return this.#reject(
        new VoxgateError('message_too_large', `Messages are limited to ${this.ctx.config.wsMaxPayloadBytes} bytes.`),
      )
    }
    if (isBinary) return this.#reject(new VoxgateError('invalid_request', 'Send JSON in text frames.'))
    // ws is told not to check UTF-8 itself (it would close with 1007 before open contexts hear of it).
    const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data)
    if (!isUtf8(bytes))
      return this.close(CLOSE_INVALID_DATA, new VoxgateError('invalid_request', 'A text frame was not valid UTF-8.'))
    let msg: unknown
    try {
      msg = JSON.parse(bytes.toString('utf8'))
    } catch {
      return this.#reject(new VoxgateError('invalid_request', 'The message is not valid JSON.'))
    }
    this.#life.serve(
      () => this.#dispatch(msg),
      (err) => this.#reject(err, contextIdOf(msg)),
    )
  }

  /** A generation request as local speech reads it: on a fallback socket, the relayed one turned local. */
  #generationRequest(msg: unknown): WsGenerationRequest {
    const request = parseOr400(WsGenerationRequest, msg, 'message')
    const fallback = this.#fallback
    if (!fallback) return request
    // The token's voices are the upstream's ids: checked as given, before the voice is mapped.
    const allowed = this.#principal.kind === 'token' ? this.#principal.limits?.voices : undefined
    if (allowed && !allowed.includes(request.voice))
      throw new VoxgateError('voice_not_allowed', 'This access token may not use this voice.')
    return fallback.localRequest(msg) ?? request
  }

  async #dispatch(msg: unknown): Promise<void> {
    if (!this.#open) return
    if (isObject(msg) && msg.type === 'refresh_token') return this.#refresh(parseOr400(WsRefreshToken, msg, 'message'))
    if (isObject(msg) && msg.cancel === true) {
      const { context_id } = parseOr400(WsCancelRequest, msg, 'message')
      if (this.#failed.has(context_id)) return
      this.#contexts.get(context_id)?.cancel()
      return
    }
    const request = this.#generationRequest(msg)
    if (this.#failed.has(request.context_id)) return
    const existing = this.#contexts.get(request.context_id)
    if (existing) return existing.input(request)
    if (this.#contexts.size >= this.ctx.config.wsMaxContexts) {
      throw new VoxgateError('too_many_contexts', `A socket may hold ${this.ctx.config.wsMaxContexts} open contexts.`)
    }
    const speech = checkSpeechRequest(this.ctx, this.#principal, request, { voiceAllowed: !!this.#fallback })
    await this.ctx.rateLimiter.take('tts', this.#principal.keyId)
    const lease = await this.ctx.streams.open(this.#principal, (err) => this.#life.revoked(err), 'websocket')
    // The socket may have gone while we waited; nothing may be opened for it after that.
    if (!this.#open) return lease.release()
    const context = new TtsContext({
      id: request.context_id,
      ctx: this.ctx,
      principal: this.#principal,
      speech: { ...speech, phonemeTimestamps: request.add_phoneme_timestamps === true },
      timestamps: request.add_timestamps === true,
      maxBufferDelayMs: request.max_buffer_delay_ms,
      lease,
      sink: this.#sink,
      onFinished: (id, failed) => this.#ended(id, failed),
    })
    this.#contexts.set(request.context_id, context)
    try {
      context.input(request)
    } catch (err) {
      context.fail(err instanceof VoxgateError ? err : new VoxgateError('internal_error', 'The context failed.'))
    }
  }

  /**
   * voxgate extension: a fresh token extends the socket, checked exactly like a new connection, and
   * only for the socket's own identity (API key and `sub`). Open contexts are checked against it:
   * a voice it excludes ends with voice_not_allowed; past its concurrent_streams the newest contexts
   * end with concurrency_limited.
   */
  async #refresh(msg: WsRefreshToken): Promise<void> {
    const principal = await verifyRefresh(this.ctx, msg, this.#origin, this.#identity)
    if (!this.#open) return
    const same = this.#principal.kind === 'token' && this.#principal.jti === principal.jti
    this.#principal = principal
    this.#life.renew(principal)
    if (!same) await this.#moveContexts(principal)
    await this.#sink.send({
      type: 'token_refreshed',
      expires_at: principal.kind === 'token' ? principal.expiresAtSeconds : null,
    })
  }

  /** Open contexts move to the fresh token, oldest first, so the newest are the ones refused. */
  async #moveContexts(principal: Principal): Promise<void> {
    const voices = principal.kind === 'token' ? principal.limits?.voices : undefined
    for (const c of this.#contexts.values()) {
      if (c.finished) continue
      // A fallback's contexts speak local voices the token names by their upstream ids: checked when they opened.
      if (voices && !this.#fallback && !voices.includes(c.voiceId)) {
        c.fail(new VoxgateError('voice_not_allowed', 'The refreshed access token may not use this voice.'))
        continue
      }
      try {
        const lease = await this.ctx.streams.open(principal, (err) => this.#life.revoked(err), 'websocket')
        // The context may have ended while the slot was taken.
        if (c.finished) lease.release()
        else c.setPrincipal(principal, lease)
      } catch (err) {
        // The new token's own concurrent_streams limit has no room for this context.
        c.fail(err instanceof VoxgateError ? err : new VoxgateError('internal_error', 'The context failed.'))
      }
    }
  }

  #reject(err: unknown, contextId?: string): void {
    const coded =
      err instanceof VoxgateError ? err : new VoxgateError('internal_error', 'The message could not be handled.')
    const context = contextId === undefined ? undefined : this.#contexts.get(contextId)
    if (context) return context.fail(coded)
    // An id already ended with an error has had its terminal event.
    if (contextId !== undefined && this.#failed.has(contextId)) return
    // A context refused before it opened (rate limit, voice, the token's streams) counts as a refusal.
    if (contextId !== undefined) this.ctx.refusals.record(this.#principal, coded)
    void this.#sink.send(this.#sink.errorEvent(coded, contextId))
    if (contextId !== undefined) this.#ended(contextId, true)
  }

  /** A context id's life ended; after an error the id stays ended (see the class comment). */
  #ended(id: string, failed: boolean): void {
    this.#contexts.delete(id)
    if (failed) this.#failed.add(id)
  }

  /** Ends every open context with `err`, then closes the socket. */
  close(code: number, err: VoxgateError): void {
    this.#life.close(code, err)
  }
}

const closedError = (): VoxgateError => new VoxgateError('connection_closing', 'The socket closed.')

export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)
export const contextIdOf = (msg: unknown): string | undefined =>
  isObject(msg) && typeof msg.context_id === 'string' && msg.context_id.length <= 256 ? msg.context_id : undefined
