import { API_VERSION } from '@voxgate/protocol'
import { SpeechContext, type ContextRequest } from './context.ts'
import { apiFetch, type ApiContext } from './lib/http.ts'
import { assertSecureUrl } from './safety.ts'
import type { TokenSource } from './token-source.ts'
import { speakOverHttp } from './transports/http.ts'
import { SocketPool } from './transports/socket.ts'
import type { SpeakOptions, SpeakRequest, SpeechStream, WebSocketConstructor } from './types.ts'
import { Voices } from './voices.ts'

/** Options of a {@link VoxgateClient}. */
export interface VoxgateClientOptions {
  /** The voice API, `https://…` (plain `http` only for localhost). */
  baseUrl: string | URL
  /** Where tokens come from. */
  tokens: TokenSource
  /** A WebSocket class, for runtimes without a global one (Node 20: the `ws` package). @default globalThis.WebSocket */
  WebSocket?: WebSocketConstructor
  /** @default globalThis.fetch */
  fetch?: typeof fetch
  /** Sent as `cartesia-version` / `?cartesia_version=`. @default API_VERSION from @voxgate/protocol */
  version?: string
}

/** What `GET /access-token/self` says about the current token (never the token itself). */
export interface TokenInfo {
  grants: { tts?: boolean | null; stt?: boolean | null; agent?: boolean | null; voices?: boolean | null }
  issued_at: number
  expires_at: number
  sub: string | null
  limits: Record<string, unknown> | null
  usage: { characters: number; open_streams: number }
}

/**
 * The voxgate client: speech over `bytes`, `sse` or `websocket` with one call shape, streaming-input
 * contexts, and the voice catalogue. Tokens come from a {@link TokenSource}.
 * @example
 * const client = new VoxgateClient({ baseUrl: 'https://voice.example.com', tokens: new TokenSource({ endpoint: '/api/voice-token' }) })
 * const format = { container: 'raw', encoding: 'pcm_f32le', sample_rate: 24000 } as const
 * for await (const chunk of client.speak({ model_id: 'sonic-3', voice, transcript: 'Hi!', output_format: format }, { transport: 'sse' })) {
 *   player.enqueue(chunk)
 * }
 */
export class VoxgateClient {
  readonly voices: Voices
  readonly #api: ApiContext
  readonly #tokens: TokenSource
  readonly #pool: SocketPool

  constructor(options: VoxgateClientOptions) {
    const baseUrl = new URL(options.baseUrl)
    assertSecureUrl(baseUrl)
    const f = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => globalThis.fetch(input, init))
    this.#api = { baseUrl, version: options.version ?? API_VERSION, fetch: f }
    this.#tokens = options.tokens
    this.#pool = new SocketPool(this.#api, this.#tokens, options.WebSocket)
    this.voices = new Voices(this.#api, this.#tokens)
  }

  /**
   * Speaks `request.transcript`, yielding PCM chunks as they arrive. The same call works on all
   * three transports.
   * @example
   * for await (const c of client.speak(req, { transport: 'websocket' })) samples += c.samples
   */
  speak(request: SpeakRequest, options: SpeakOptions = {}): SpeechStream {
    const transport = options.transport ?? 'websocket'
    if (transport === 'bytes' || transport === 'sse') return speakOverHttp(this.#api, this.#tokens, request, transport, options)
    if (transport !== 'websocket') throw new TypeError(`Unknown transport: ${String(transport)}`)
    const { transcript, ...rest } = request
    const context = new SpeechContext(this.#pool, rest, options)
    context.end(transcript)
    return context
  }

  /**
   * Opens a streaming-input context on the WebSocket: `push` text as it arrives, `end()` when done.
   * @example
   * const ctx = client.context({ model_id: 'sonic-3', voice, output_format: format })
   * ctx.push('Hello, '); ctx.push('world.'); ctx.end()
   */
  context(request: ContextRequest, options: Omit<SpeakOptions, 'transport'> = {}): SpeechContext {
    return new SpeechContext(this.#pool, request, options)
  }

  /** What the server knows about the current token. @example const { expires_at } = await client.tokenInfo() */
  async tokenInfo(): Promise<TokenInfo> {
    const res = await this.#tokens.withToken((t) => apiFetch(this.#api, { method: 'GET', path: '/access-token/self' }, t))
    return (await res.json()) as TokenInfo
  }

  /** Closes the WebSocket (open contexts fail with ERR_SOCKET_CLOSED). @example client.close() */
  close(): void {
    this.#pool.close()
  }
}
