import { API_VERSION } from '@voxgate/protocol'
import { SpeechContext, type ContextRequest } from './context.ts'
import { ConnectionError } from './errors.ts'
import { apiFetch, type ApiContext } from './lib/http.ts'
import { ListenSession, type ListenOptions, type PcmSource } from './listen.ts'
import { assertSecureUrl } from './safety.ts'
import type { TokenSource } from './token-source.ts'
import { speakOverHttp } from './transports/http.ts'
import { openWebSocket } from './transports/connect.ts'
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
  /** What the token has used: characters spoken, seconds of audio transcribed, streams open now. */
  usage: { characters: number; audio_seconds: number; open_streams: number }
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
  readonly #WS: WebSocketConstructor | undefined

  constructor(options: VoxgateClientOptions) {
    const baseUrl = new URL(options.baseUrl)
    assertSecureUrl(baseUrl)
    const f = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => globalThis.fetch(input, init))
    this.#api = { baseUrl, version: options.version ?? API_VERSION, fetch: f }
    this.#tokens = options.tokens
    this.#WS = options.WebSocket
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
    if (transport === 'bytes' || transport === 'sse')
      return speakOverHttp(this.#api, this.#tokens, request, transport, options)
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

  /**
   * Transcribes PCM as it arrives over `/stt/websocket` (the token needs the `stt` grant): partial and
   * final transcripts as events, `finalize()` and `close()`. Each session opens its own socket with
   * the freshest token; a failed handshake refreshes the token once and tries once more.
   * @example
   * const session = client.listen({ sampleRate: 16000, frames: pcmFrames })
   * session.on('final', (e) => console.log(e.transcript))
   * const text = await session.done
   */
  listen(source: PcmSource, options: ListenOptions = {}): ListenSession {
    const retry = (err: unknown) => err instanceof ConnectionError && err.code === 'ERR_SOCKET_CONNECT'
    return new ListenSession(
      (query) => this.#tokens.withToken((t) => openWebSocket(this.#api, this.#WS, '/stt/websocket', query, t), retry),
      source,
      options,
    )
  }

  /** What the server knows about the current token. @example const { expires_at } = await client.tokenInfo() */
  async tokenInfo(): Promise<TokenInfo> {
    const res = await this.#tokens.withToken((t) =>
      apiFetch(this.#api, { method: 'GET', path: '/access-token/self' }, t),
    )
    return (await res.json()) as TokenInfo
  }

  /** Closes the WebSocket (open contexts fail with ERR_SOCKET_CLOSED). @example client.close() */
  close(): void {
    this.#pool.close()
  }
}
