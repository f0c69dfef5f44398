import type { SttWord } from '@voxgate/protocol'
import {
  apiErrorFrom,
  AudioInputError,
  ConnectionError,
  type ServerErrorBody,
  StreamError,
  type VoxgateClientError,
} from './errors.ts'
import { PcmChunker, type PcmFrame } from './lib/pcm-chunker.ts'
import type { WebSocketLike } from './types.ts'

export type { PcmFrame } from './lib/pcm-chunker.ts'
export type { SttWord } from '@voxgate/protocol'

/** Mono PCM to transcribe: frames of any size as they are captured or read. */
export interface PcmSource {
  /** Hz, 8000..48000 (the server resamples). */
  sampleRate: number
  /** Int16Array or Float32Array (-1..1) frames. When the iteration ends, the session closes. */
  frames: AsyncIterable<PcmFrame>
  /** Called when the session ends, to release the device (the microphone source has one). */
  stop?(): void
}

/** Per-session options of `listen()`. */
export interface ListenOptions {
  /** @default 'ink-2' */
  model?: string
  /** @default 'en' */
  language?: string
  /** Audio is sent in chunks of this many milliseconds. @default 100 */
  chunkMs?: number
  /** Aborting ends the session at once (as `cancel()`). */
  signal?: AbortSignal
}

/** What a session reports. `transcript` is always the whole text so far (finals, plus the partial). */
export type ListenEvent =
  /** The recogniser's current guess for the words since the last final; it may still change. */
  | { type: 'partial'; text: string; transcript: string }
  /** Words that will not change: an utterance ended (0.5 s of silence) or `finalize()` was called. */
  | { type: 'final'; text: string; words: SttWord[]; duration: number; transcript: string }
  /** The server reported a failure; when it ends the session, `done` rejects with the same error. */
  | { type: 'error'; error: VoxgateClientError }
  /** The session is over; `transcript` is every final's text. */
  | { type: 'done'; transcript: string }

export type ListenEventType = ListenEvent['type']

/** A message from the STT socket as parsed: each field is checked where it is read. */
type SttMessage = ServerErrorBody & {
  type?: unknown
  text?: unknown
  is_final?: unknown
  words?: unknown
  duration?: unknown
  status_code?: unknown
}

type Listener<T extends ListenEventType> = (event: Extract<ListenEvent, { type: T }>) => void

/** Opens the socket for a session (with the freshest token). */
export type SttConnector = (query: Record<string, string | number>) => Promise<WebSocketLike>

const OPEN = 1

/**
 * One speech-to-text session over `/stt/websocket`: PCM in, partial and final transcripts out.
 * Created by `client.listen()`; the socket opens with the freshest token and lives as long as the
 * session (the server lets it outlive its token by its session grace).
 * @example
 * const session = client.listen(await microphone())
 * session.on('partial', (e) => (caption.textContent = e.transcript))
 * const text = await session.close()
 */
export class ListenSession {
  /** Resolves with the whole transcript when the session ends cleanly; rejects with a typed error. */
  readonly done: Promise<string>
  readonly #source: PcmSource
  readonly #chunker: PcmChunker
  readonly #socket: Promise<WebSocketLike>
  // biome-ignore lint/suspicious/noExplicitAny: a Map cannot tie each key to its listener's event type; on() and #emit() do
  readonly #listeners = new Map<ListenEventType, Set<Listener<any>>>()
  readonly #flushes: { resolve: (text: string) => void; reject: (err: unknown) => void }[] = []
  #settle!: { resolve: (text: string) => void; reject: (err: unknown) => void }
  #state: 'open' | 'closing' | 'ended' = 'open'
  #transcript = ''
  #sinceFlush = ''
  #lastError: VoxgateClientError | undefined
  #frames: AsyncIterator<PcmFrame> | undefined

  /** @internal Use `client.listen()`. */
  constructor(connect: SttConnector, source: PcmSource, options: ListenOptions = {}) {
    const rate = source.sampleRate
    if (!Number.isInteger(rate) || rate < 8000 || rate > 48000)
      throw new TypeError('sampleRate must be an integer from 8000 to 48000')
    const chunkMs = options.chunkMs ?? 100
    if (!(chunkMs >= 10 && chunkMs <= 1000)) throw new TypeError('chunkMs must be from 10 to 1000')
    this.#source = source
    this.#chunker = new PcmChunker(Math.round((rate * chunkMs) / 1000))
    this.done = new Promise<string>((resolve, reject) => (this.#settle = { resolve, reject }))
    this.done.catch(() => undefined)
    this.#socket = connect({
      model: options.model ?? 'ink-2',
      language: options.language ?? 'en',
      encoding: 'pcm_s16le',
      sample_rate: rate,
    })
    this.#socket.then(
      (ws) => this.#opened(ws),
      (err: unknown) => this.#fail(err as VoxgateClientError),
    )
    const signal = options.signal
    if (signal?.aborted) this.cancel()
    else signal?.addEventListener('abort', () => this.cancel(), { once: true })
  }

  /** The finals' text so far. */
  get transcript(): string {
    return this.#transcript
  }

  /** Subscribes to one kind of event; returns the unsubscribe function. @example session.on('final', (e) => log(e.text)) */
  on<T extends ListenEventType>(type: T, listener: Listener<T>): () => void {
    let set = this.#listeners.get(type)
    if (!set) this.#listeners.set(type, (set = new Set()))
    set.add(listener)
    return () => set.delete(listener)
  }

  /**
   * Makes everything sent so far final now (push-to-talk release); resolves with the finals' text
   * since the previous `finalize()`. The session stays open.
   * @example const said = await session.finalize()
   */
  async finalize(): Promise<string> {
    const ws = await this.#ready()
    return new Promise<string>((resolve, reject) => {
      this.#flushes.push({ resolve, reject })
      this.#sendRest(ws)
      ws.send('finalize')
    })
  }

  /**
   * Stops the source, sends the audio still held, and waits for the last finals; resolves with the
   * whole transcript (the same as `done`).
   * @example const text = await session.close()
   */
  async close(): Promise<string> {
    if (this.#state === 'open') {
      this.#state = 'closing'
      this.#stopSource()
      this.#socket.then(
        (ws) => this.#closeRemote(ws),
        () => undefined,
      )
    }
    return this.done
  }

  /** Ends the session now, without waiting for the last finals; `done` resolves with what was final. @example session.cancel() */
  cancel(): void {
    if (this.#state === 'ended') return
    this.#end()
    this.#socket.then(
      (ws) => ws.close(1000, 'OK'),
      () => undefined,
    )
    this.#settle.resolve(this.#transcript)
  }

  async #ready(): Promise<WebSocketLike> {
    if (this.#state !== 'open') throw new StreamError('ERR_ABORTED', 'The listening session is closed.')
    const ws = await this.#socket
    if (this.#state !== 'open' || ws.readyState !== OPEN)
      throw this.#lastError ?? new StreamError('ERR_ABORTED', 'The listening session is closed.')
    return ws
  }

  #opened(ws: WebSocketLike): void {
    ws.onmessage = (ev) => this.#message(ev.data)
    ws.onclose = (ev) =>
      this.#fail(
        this.#lastError ??
          new ConnectionError(
            'ERR_SOCKET_CLOSED',
            `The speech-to-text socket closed (code ${ev.code}) before the session ended.`,
            ev.code,
          ),
      )
    if (this.#state === 'ended') return ws.close(1000, 'OK')
    if (this.#state === 'closing') return this.#closeRemote(ws)
    void this.#pump(ws)
  }

  async #pump(ws: WebSocketLike): Promise<void> {
    try {
      this.#frames = this.#source.frames[Symbol.asyncIterator]()
      for (let r = await this.#frames.next(); !r.done && this.#state === 'open'; r = await this.#frames.next()) {
        if (!(r.value instanceof Int16Array || r.value instanceof Float32Array))
          throw new TypeError('not an Int16Array or Float32Array')
        this.#chunker.push(r.value, (bytes) => ws.readyState === OPEN && ws.send(bytes))
      }
    } catch (cause) {
      if (this.#state !== 'open') return
      return this.#fail(new AudioInputError('ERR_AUDIO_SOURCE', 'The audio source failed.', cause))
    }
    // The source ran out: what it said is all there is.
    if (this.#state === 'open') void this.close()
  }

  #sendRest(ws: WebSocketLike): void {
    const rest = this.#chunker.take()
    if (rest && ws.readyState === OPEN) ws.send(rest)
  }

  #closeRemote(ws: WebSocketLike): void {
    if (ws.readyState !== OPEN) return
    this.#sendRest(ws)
    ws.send('close')
  }

  #message(data: unknown): void {
    if (typeof data !== 'string') return
    let e: SttMessage
    try {
      e = JSON.parse(data) as SttMessage
    } catch {
      return
    }
    if (e === null || typeof e !== 'object') return
    if (e.type === 'transcript' && typeof e.text === 'string')
      return e.is_final
        ? this.#final(e.text, e)
        : this.#emit({ type: 'partial', text: e.text, transcript: this.#transcript + e.text })
    if (e.type === 'flush_done') return this.#flushed()
    if (e.type === 'done') return this.#finished()
    if (e.type === 'error') {
      this.#lastError = apiErrorFrom(typeof e.status_code === 'number' ? e.status_code : 500, e)
      this.#emit({ type: 'error', error: this.#lastError })
    }
  }

  #final(text: string, e: SttMessage): void {
    this.#transcript += text
    this.#sinceFlush += text
    const words = Array.isArray(e.words) ? (e.words as SttWord[]) : []
    this.#emit({
      type: 'final',
      text,
      words,
      duration: typeof e.duration === 'number' ? e.duration : 0,
      transcript: this.#transcript,
    })
  }

  #flushed(): void {
    const text = this.#sinceFlush.trimStart()
    this.#sinceFlush = ''
    this.#flushes.shift()?.resolve(text)
  }

  #finished(): void {
    if (this.#state === 'ended') return
    this.#end()
    for (const f of this.#flushes.splice(0)) f.resolve(this.#sinceFlush.trimStart())
    this.#emit({ type: 'done', transcript: this.#transcript })
    this.#settle.resolve(this.#transcript)
  }

  #fail(err: VoxgateClientError): void {
    if (this.#state === 'ended') return
    this.#end()
    for (const f of this.#flushes.splice(0)) f.reject(err)
    if (err !== this.#lastError) this.#emit({ type: 'error', error: err })
    this.#socket.then(
      (ws) => ws.readyState === OPEN && ws.close(1000, 'OK'),
      () => undefined,
    )
    this.#settle.reject(err)
  }

  #end(): void {
    this.#state = 'ended'
    this.#stopSource()
  }

  #stopSource(): void {
    try {
      this.#source.stop?.()
      this.#frames?.return?.()?.catch(() => undefined)
    } catch {
      // A source that fails to stop has nothing more to give either.
    }
  }

  #emit(event: ListenEvent): void {
    for (const listener of this.#listeners.get(event.type) ?? []) {
      try {
        listener(event as never)
      } catch {
        // One broken listener must not stop the session or the other listeners.
      }
    }
  }
}
