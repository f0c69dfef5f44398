import { readJwt } from '@voxgate/protocol'
import { ConnectionError, type VoxgateClientError } from '../errors.ts'
import type { ApiContext } from '../lib/http.ts'
import type { TokenSource } from '../token-source.ts'
import type { WebSocketConstructor, WebSocketLike } from '../types.ts'
import { openWebSocket } from './connect.ts'

/** What a context registers on a socket to receive its events. */
export interface ContextHandler {
  event(e: Record<string, unknown>): void
  lost(err: VoxgateClientError): void
}

const OPEN = 1

/**
 * One open `/tts/websocket`: routes events to contexts by `context_id`, extends itself in band with
 * every new token (`{"type":"refresh_token"}`, a voxgate extension) so the server's expiry grace never
 * closes it, and on close fails every context still open instead of leaving it hanging.
 */
export class TtsSocket {
  readonly handlers = new Map<string, ContextHandler>()
  #gone = false
  /** The signed-in user changed: open contexts finish here, new ones go to a fresh socket. */
  #retired = false
  /** The token the server holds for this socket (already in the socket's URL; never exposed). */
  #serverToken: string | undefined
  readonly #unsubscribe: () => void

  constructor(
    private readonly ws: WebSocketLike,
    private readonly tokens: TokenSource,
    connectedWith: string | undefined,
  ) {
    this.#serverToken = connectedWith
    ws.onmessage = (ev) => this.#message(ev.data)
    ws.onclose = (ev) => this.#closed(ev.code)
    ws.onerror = () => undefined // a close event follows
    this.#unsubscribe = tokens.onToken(() => this.#refresh())
    // A token that arrived while the handshake was in flight was missed by the listener: catch up.
    this.#refresh()
  }

  get open(): boolean {
    return !this.#gone && this.ws.readyState === OPEN
  }

  /** True when new contexts must not start here (closed, or it belongs to the previous user). */
  get stale(): boolean {
    return this.#retired || !this.open
  }

  /** Sends one JSON message; false when the socket is no longer open. */
  send(msg: object): boolean {
    if (!this.open) return false
    this.ws.send(JSON.stringify(msg))
    return true
  }

  close(): void {
    this.ws.close(1000, 'OK')
  }

  #refresh(): void {
    // Cookie mode cannot refresh in band (JavaScript never sees the token); the server's grace applies.
    if (!this.open || this.tokens.mode === 'cookie') return
    this.tokens
      .withToken(async (t) => {
        if (t === undefined || t === this.#serverToken) return
        // The server keeps a socket's identity (API key and sub) for its life and refuses a token of
        // another user; the client must not even try: that user gets a socket of their own.
        if (!sameIdentity(t, this.#serverToken)) {
          this.#retired = true
          return
        }
        if (this.send({ type: 'refresh_token', access_token: t })) this.#serverToken = t
      })
      .catch(() => undefined)
  }

  #message(data: unknown): void {
    if (typeof data !== 'string') return
    let e: unknown
    try {
      e = JSON.parse(data)
    } catch {
      return
    }
    if (typeof e !== 'object' || e === null) return
    const id = (e as { context_id?: unknown }).context_id
    if (typeof id === 'string') this.handlers.get(id)?.event(e as Record<string, unknown>)
  }

  #closed(code: number): void {
    if (this.#gone) return
    this.#gone = true
    this.#unsubscribe()
    const err = new ConnectionError(
      'ERR_SOCKET_CLOSED',
      `The WebSocket closed (code ${code}) while this context was open.`,
      code,
    )
    for (const h of this.handlers.values()) h.lost(err)
    this.handlers.clear()
  }
}

/**
 * Keeps at most one socket. A new socket always opens with the freshest token; a closed one is
 * replaced on next use. A failed handshake (browsers cannot see its status) refreshes the token once
 * and tries once more.
 */
export class SocketPool {
  #current: Promise<TtsSocket> | undefined
  #socket: TtsSocket | undefined

  constructor(
    private readonly api: ApiContext,
    private readonly tokens: TokenSource,
    private readonly WS: WebSocketConstructor | undefined,
  ) {}

  acquire(): Promise<TtsSocket> {
    if (this.#socket?.stale) {
      // A retired socket with nothing left on it is closed now rather than left to idle out.
      if (this.#socket.open && this.#socket.handlers.size === 0) this.#socket.close()
      this.#current = this.#socket = undefined
    }
    if (!this.#current) {
      const p = this.tokens
        .withToken(
          async (t) => ({ ws: await this.#connect(t), t }),
          (err) => err instanceof ConnectionError && err.code === 'ERR_SOCKET_CONNECT',
        )
        .then(({ ws, t }) => (this.#socket = new TtsSocket(ws, this.tokens, t)))
      p.catch(() => {
        if (this.#current === p) this.#current = undefined
      })
      this.#current = p
    }
    return this.#current
  }

  close(): void {
    this.#current?.then(
      (s) => s.close(),
      () => undefined,
    )
    this.#current = this.#socket = undefined
  }

  #connect(token: string | undefined): Promise<WebSocketLike> {
    return openWebSocket(this.api, this.WS, '/tts/websocket', {}, token)
  }
}

/** The claims that make a token's identity; undefined for a token that is not a readable JWT. */
function identityOf(token: string | undefined): string | undefined {
  const claims = readJwt(token)
  return claims && JSON.stringify([claims.keyId ?? null, claims.sub ?? null])
}

/** Whether two tokens belong to the same API key and end-user (opaque tokens are trusted to). */
function sameIdentity(a: string, b: string | undefined): boolean {
  const ia = identityOf(a)
  const ib = identityOf(b)
  return ia === undefined || ib === undefined || ia === ib
}
