import { StreamError } from '../errors.ts'
import { apiFetch, type ApiContext } from '../lib/http.ts'
import { AsyncQueue } from '../lib/queue.ts'
import { SseParser } from '../lib/sse.ts'
import type { TokenSource } from '../token-source.ts'
import type { SpeakOptions, SpeakRequest, SpeechChunk, SpeechStream } from '../types.ts'
import { ChunkSink } from './chunks.ts'

/**
 * `speak` over `POST /tts/bytes` (chunked raw PCM) or `POST /tts/sse` (events). Starts at once;
 * errors wait in the queue for the consumer. A 401 before the first byte refreshes the token once
 * and retries once (TokenSource.withToken).
 */
export function speakOverHttp(
  api: ApiContext,
  tokens: TokenSource,
  request: SpeakRequest,
  transport: 'bytes' | 'sse',
  opts: SpeakOptions,
): SpeechStream {
  const abort = new AbortController()
  const queue = new AsyncQueue<SpeechChunk>(() => abort.abort())
  const sink = new ChunkSink(queue, request.output_format, transport, opts.onTimestamps)
  const onAbort = () => {
    queue.fail(new StreamError('ERR_ABORTED', 'The speech request was aborted.'))
    abort.abort()
  }
  if (opts.signal?.aborted) onAbort()
  opts.signal?.addEventListener('abort', onAbort, { once: true })
  const path = transport === 'bytes' ? '/tts/bytes' : '/tts/sse'
  const accept = transport === 'bytes' ? 'application/octet-stream' : 'text/event-stream'
  void tokens
    .withToken((t) => apiFetch(api, { method: 'POST', path, body: request, accept, signal: abort.signal }, t))
    .then((res) => (transport === 'bytes' ? readBytes(res, sink) : readSse(res, sink)))
    .catch((err: unknown) =>
      queue.fail(abort.signal.aborted ? new StreamError('ERR_ABORTED', 'The speech request was aborted.') : err),
    )
    .finally(() => opts.signal?.removeEventListener('abort', onAbort))
  return {
    [Symbol.asyncIterator]: () => queue,
    cancel() {
      queue.end()
      abort.abort()
    },
  }
}

async function readBytes(res: Response, sink: ChunkSink): Promise<void> {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader()
  for (let r = await reader.read(); !r.done; r = await reader.read()) {
    if (sink.queue.closed) return void reader.cancel().catch(() => undefined)
    sink.audio(r.value)
  }
  sink.queue.end()
}

async function readSse(res: Response, sink: ChunkSink): Promise<void> {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader()
  const decoder = new TextDecoder()
  const parser = new SseParser()
  for (let r = await reader.read(); !r.done; r = await reader.read()) {
    for (const msg of parser.feed(decoder.decode(r.value, { stream: true }))) {
      if (sink.queue.closed || sink.event(parseEvent(msg.data))) return void reader.cancel().catch(() => undefined)
    }
  }
  sink.queue.fail(new StreamError('ERR_PROTOCOL', 'The SSE stream ended before its done event.'))
}

function parseEvent(data: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(data)
    if (typeof value === 'object' && value !== null) return value as Record<string, unknown>
  } catch {
    // fall through
  }
  return { type: 'chunk' } // no data → reported as a protocol error by the sink
}
