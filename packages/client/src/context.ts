import { ConnectionError, StreamError, type VoxgateClientError } from './errors.ts'
import { AsyncQueue } from './lib/queue.ts'
import type { SocketPool, TtsSocket } from './transports/socket.ts'
import { ChunkSink } from './transports/chunks.ts'
import type { SpeakOptions, SpeakRequest, SpeechChunk, SpeechStream } from './types.ts'

/** Everything of a request but the text, which a context receives piece by piece. */
export interface ContextRequest extends Omit<SpeakRequest, 'transcript'> {
  /** How long the server waits for more text before speaking an incomplete sentence. @default 3000 (server) */
  max_buffer_delay_ms?: number
  /** @default a random UUID */
  context_id?: string
}

const randomId = (): string =>
  globalThis.crypto?.randomUUID?.() ?? `ctx-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`

/**
 * A streaming-input speech context on the WebSocket, for text that arrives in pieces (an LLM's
 * tokens). Audio comes back as one async iterable, in order. If the socket drops, iteration fails
 * with `ERR_SOCKET_CLOSED` instead of hanging.
 * @example
 * const ctx = client.context({ model_id: 'sonic-3', voice, output_format })
 * for await (const piece of llm) ctx.push(piece)
 * ctx.end()
 * for await (const chunk of ctx) player.enqueue(chunk)
 */
export class SpeechContext implements SpeechStream {
  readonly contextId: string
  readonly #queue: AsyncQueue<SpeechChunk>
  readonly #base: Record<string, unknown>
  readonly #socket: Promise<TtsSocket>
  #ended = false

  /** @internal Use `client.context()`. */
  constructor(pool: SocketPool, request: ContextRequest, opts: Omit<SpeakOptions, 'transport'> = {}) {
    this.contextId = request.context_id ?? randomId()
    this.#base = { ...request, context_id: this.contextId }
    this.#queue = new AsyncQueue<SpeechChunk>(() => this.#cancelRemote())
    const sink = new ChunkSink(this.#queue, request.output_format, 'websocket', opts.onTimestamps)
    this.#socket = pool.acquire().then((s) => {
      s.handlers.set(this.contextId, {
        event: (e) => sink.event(e) && s.handlers.delete(this.contextId),
        lost: (err: VoxgateClientError) => this.#queue.fail(err),
      })
      return s
    })
    this.#socket.catch((err: unknown) => this.#queue.fail(err))
    const signal = opts.signal
    if (signal) {
      const onAbort = () => {
        this.#queue.fail(new StreamError('ERR_ABORTED', 'The speech context was aborted.'))
        this.#cancelRemote()
      }
      if (signal.aborted) onAbort()
      else signal.addEventListener('abort', onAbort, { once: true })
    }
  }

  /** Adds text; spaces are yours to supply (`'Hello '`, `'world.'`). @example ctx.push('Hello ') */
  push(text: string): void {
    if (this.#ended) throw new TypeError('push() after end()')
    if (text.length > 0) this.#send({ ...this.#base, transcript: text, continue: true })
  }

  /** Speaks what was pushed so far without waiting for a sentence end. @example ctx.flush() */
  flush(): void {
    if (this.#ended) throw new TypeError('flush() after end()')
    this.#send({ ...this.#base, transcript: '', continue: true, flush: true })
  }

  /** No more input: the iterator ends after the last audio. Optional final text. @example ctx.end('Bye.') */
  end(text = ''): void {
    if (this.#ended) return
    this.#ended = true
    this.#send({ ...this.#base, transcript: text, continue: false })
  }

  /** Stops now: iteration ends without an error and the server is told to cancel. @example ctx.cancel() */
  cancel(): void {
    this.#ended = true
    if (this.#queue.closed) return
    this.#queue.end()
    this.#cancelRemote()
  }

  [Symbol.asyncIterator](): AsyncIterator<SpeechChunk> {
    return this.#queue
  }

  #cancelRemote(): void {
    this.#socket.then(
      (s) => {
        if (s.handlers.delete(this.contextId)) s.send({ context_id: this.contextId, cancel: true })
      },
      () => undefined,
    )
  }

  #send(msg: object): void {
    this.#socket.then(
      (s) => {
        if (this.#queue.closed || s.send(msg)) return
        this.#queue.fail(new ConnectionError('ERR_SOCKET_CLOSED', 'The WebSocket closed while this context was open.'))
      },
      () => undefined,
    )
  }
}
