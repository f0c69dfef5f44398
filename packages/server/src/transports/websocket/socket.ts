import { isUtf8 } from 'node:buffer'
import type { Socket } from 'node:net'
import type { RawData, WebSocket } from 'ws'
import { VoxgateError } from '@voxgate/protocol'
import { WsCancelRequest, WsGenerationRequest, WsRefreshToken } from '@voxgate/protocol/schemas'
import type { Principal } from '../../auth/principal.ts'
import type { ServerContext } from '../../context.ts'
import { parseOr400 } from '../../http/validate.ts'
import type { StreamLease } from '../../streams/registry.ts'
import { checkSpeechRequest } from '../prepare.ts'
import { cutAfterGrace, hardClose } from '../hard-close.ts'
import { TtsContext } from './context.ts'
import { identityOf, verifyRefresh, type SocketIdentity } from './refresh.ts'
import { socketSink, type EventSink } from './sink.ts'
import { armSessionTimer } from './session-timer.ts'

/** Close codes: 4401 for a credential that was revoked or ran out (HTTP 401's meaning, in the 4000 range). */
export const CLOSE_CREDENTIAL = 4401
export const CLOSE_IDLE = 1000
export const CLOSE_SHUTDOWN = 1001
/** The client sends faster than it is served, or does not read what it is sent. */
export const CLOSE_POLICY = 1008
/** A text frame that is not UTF-8 (RFC 6455 §7.4.1). */
export const CLOSE_INVALID_DATA = 1007

/** Messages received but not yet handled; past this the client is flooding the socket. */
export const MAX_PENDING_MESSAGES = 256
/** Context ids remembered as ended with an error, per socket (the oldest are forgotten first). */
export const MAX_FAILED_CONTEXT_IDS = 1024

/** How a socket is served beyond its credential. */
export interface TtsSocketOptions {
  /**
   * Gateway mode's local fallback (gateway/fallback.ts): generation requests arrive in the upstream's
   * terms (its voice ids, checked against the token as such) and are turned into local ones; every
   * event says `fallback: "local"` and the ledger counts the characters as a fallback's.
   */
  fallback?: { localRequest(raw: unknown): WsGenerationRequest | undefined }
}

/**
 * One authenticated `/tts/websocket` connection: routes JSON messages to contexts by `context_id`,
 * enforces the message-size and context-count limits with error events (the socket stays open), and
 * before it closes sends a terminal event for every open context (SDK4 has no close listener).
 *
 * One terminal event per context id's life: a context ends with exactly one `done` or `error`. After
 * `done` the id is free, and a later request with it starts a new context. After an `error` (a
 * context that failed, or a request refused before its context could open, such as an unknown voice)
 * the id stays ended for the socket's life: further messages for it (`continue`, flush, end of
 * input, cancel, even malformed ones) are ignored without an event, since the client was already told.
 */
export class TtsSocket {
  readonly #contexts = new Map<string, TtsContext>()
  /** Ids whose life ended with an `error` (see the class comment), in insertion order. */
  readonly #failed = new Set<string>()
  readonly #sink: EventSink
  #watch: StreamLease
  #idleTimer: NodeJS.Timeout | undefined
  #sessionTimer: NodeJS.Timeout | undefined
  #closing = false
  /** Set once the socket is gone: messages still in the inbox must not open anything after that. */
  #closed = false
  /** Messages are handled one after another, in arrival order, even across awaits. */
  #inbox: Promise<void> = Promise.resolve()
  #pending = 0
  /** Who the socket belongs to, fixed for its life: a refresh may extend it, never hand it over. */
  readonly #identity: SocketIdentity

  constructor(
    private readonly ctx: ServerContext,
    private readonly ws: WebSocket,
    private principal: Principal,
    private readonly origin: string | undefined,
    requestId: string,
    private readonly socket: Socket,
    private readonly options: TtsSocketOptions = {},
  ) {
    this.#identity = identityOf(principal)
    this.#sink = socketSink(ws, requestId, () => this.#overflow(), options.fallback ? { fallback: 'local' } : {})
    this.#watch = ctx.streams.watch(principal, (err) => this.close(CLOSE_CREDENTIAL, err))
    ws.on('message', (data, isBinary) => this.#onMessage(data, isBinary))
    ws.on('close', () => this.#teardown())
    ws.on('error', () => this.#teardown())
    this.#armIdle()
    this.#armSession()
  }

  #onMessage(data: RawData, isBinary: boolean): void {
    if (this.#closing || this.#closed) return
    this.#armIdle()
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
    if (++this.#pending > MAX_PENDING_MESSAGES) return this.#overflow()
    this.#inbox = this.#inbox
      .then(() => this.#dispatch(msg))
      .catch((err: unknown) => this.#reject(err, contextIdOf(msg)))
      .finally(() => {
        this.#pending -= 1
      })
  }

  /** A generation request as local speech reads it: on a fallback socket, the relayed one turned local. */
  #generationRequest(msg: unknown): WsGenerationRequest {
    const request = parseOr400(WsGenerationRequest, msg, 'message')
    const fallback = this.options.fallback
    if (!fallback) return request
    // The token's voices are the upstream's ids: checked as given, before the voice is mapped.
    const allowed = this.principal.kind === 'token' ? this.principal.limits?.voices : undefined
    if (allowed && !allowed.includes(request.voice))
      throw new VoxgateError('voice_not_allowed', 'This access token may not use this voice.')
    return fallback.localRequest(msg) ?? request
  }

  /** A client that floods the socket or does not read it is cut off: memory must stay bounded. */
  #overflow(): void {
    this.close(
      CLOSE_POLICY,
      new VoxgateError('rate_limited', 'The socket is not being read, or messages arrive faster than they are served.'),
    )
    hardClose(this.socket)
  }

  async #dispatch(msg: unknown): Promise<void> {
    if (this.#closed) return
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
    const speech = checkSpeechRequest(this.ctx, this.principal, request, { voiceAllowed: !!this.options.fallback })
    await this.ctx.rateLimiter.take('tts', this.principal.keyId)
    const lease = await this.ctx.streams.open(this.principal, (err) => this.close(CLOSE_CREDENTIAL, err), 'websocket')
    // The socket may have gone while we waited; nothing may be opened for it after that.
    if (this.#closed) return lease.release()
    const context = new TtsContext(
      request.context_id,
      this.ctx,
      this.principal,
      { ...speech, phonemeTimestamps: request.add_phoneme_timestamps === true },
      request.add_timestamps === true,
      request.max_buffer_delay_ms,
      lease,
      this.#sink,
      (id, failed) => this.#ended(id, failed),
    )
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
    const principal = await verifyRefresh(this.ctx, msg, this.origin, this.#identity)
    if (this.#closed) return
    const same = this.principal.kind === 'token' && this.principal.jti === principal.jti
    this.principal = principal
    this.#watch.release()
    this.#watch = this.ctx.streams.watch(principal, (err) => this.close(CLOSE_CREDENTIAL, err))
    if (!same) await this.#moveContexts(principal)
    this.#armSession()
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
      if (voices && !this.options.fallback && !voices.includes(c.voiceId)) {
        c.fail(new VoxgateError('voice_not_allowed', 'The refreshed access token may not use this voice.'))
        continue
      }
      try {
        const lease = await this.ctx.streams.open(principal, (err) => this.close(CLOSE_CREDENTIAL, err), 'websocket')
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
    if (contextId !== undefined) this.ctx.refusals.record(this.principal, coded)
    void this.#sink.send(this.#sink.errorEvent(coded, contextId))
    if (contextId !== undefined) this.#ended(contextId, true)
  }

  /** A context id's life ended; after an error the id stays ended (see the class comment). */
  #ended(id: string, failed: boolean): void {
    this.#contexts.delete(id)
    if (!failed) return
    this.#failed.add(id)
    if (this.#failed.size > MAX_FAILED_CONTEXT_IDS) this.#failed.delete(this.#failed.values().next().value as string)
  }

  #armIdle(): void {
    clearTimeout(this.#idleTimer)
    this.#idleTimer = setTimeout(() => {
      // A context waiting for more input is not activity; only one still speaking is.
      if ([...this.#contexts.values()].some((c) => c.busy)) return this.#armIdle()
      this.close(CLOSE_IDLE, new VoxgateError('connection_closing', 'The socket was idle for too long.'))
    }, this.ctx.config.wsIdleTimeoutMs)
    this.#idleTimer.unref()
  }

  /** A token-authenticated socket lives until the token's expiry plus the session grace. */
  #armSession(): void {
    clearTimeout(this.#sessionTimer)
    this.#sessionTimer = armSessionTimer(this.ctx, this.principal, (err) => this.close(CLOSE_CREDENTIAL, err))
  }

  /** Ends every open context with `err`, then closes the socket. */
  close(code: number, err: VoxgateError): void {
    if (this.#closing) return
    this.#closing = true
    for (const c of this.#contexts.values()) c.fail(err)
    this.ws.close(code, err.code)
    // A revoked socket must be gone within a second even if its reader lags far behind.
    if (code === CLOSE_CREDENTIAL) cutAfterGrace(this.socket, () => this.socket.destroyed)
    this.#teardown()
  }

  #teardown(): void {
    this.#closed = true
    clearTimeout(this.#idleTimer)
    clearTimeout(this.#sessionTimer)
    this.#watch.release()
    for (const c of this.#contexts.values()) c.fail(new VoxgateError('connection_closing', 'The socket closed.'))
    this.#contexts.clear()
  }
}

export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)
export const contextIdOf = (msg: unknown): string | undefined =>
  isObject(msg) && typeof msg.context_id === 'string' && msg.context_id.length <= 256 ? msg.context_id : undefined
