/**
 * Helpers for the security suite: TTS request bodies, a WebSocket inbox that records every event and
 * the close with arrival times, and an SSE reader. Nothing here fakes the server; it only observes.
 */
import WebSocket from 'ws'
import { bearer, call } from './http.ts'
import { handshake, wsUrl } from './ws.ts'

export const FORMAT = { container: 'raw', encoding: 'pcm_s16le', sample_rate: 16000 } as const

/** A valid TTS request body (bytes and SSE; add `context_id` for the WebSocket). */
export const ttsBody = (
  voice: string,
  transcript: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> => ({ model_id: 'sonic-3', transcript, voice, output_format: FORMAT, ...extra })

/** `n` voice ids from `GET /voices`, read with the API key. */
export async function voiceIds(url: string, apiKey: string, n = 2): Promise<string[]> {
  const res = await call(url, `/voices?limit=${n}`, { headers: bearer(apiKey) })
  if (res.status !== 200) throw new Error(`GET /voices: ${res.status} ${res.text}`)
  const ids = (res.json.data as { id: string }[]).map((v) => v.id)
  if (ids.length < n) throw new Error(`only ${ids.length} voices`)
  return ids
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

export interface CloseInfo {
  code: number
  reason: string
  at: number
}

/** Everything a socket received, in order, with `performance.now()` arrival times. */
export class Inbox {
  readonly messages: any[] = []
  readonly times: number[] = []
  closeInfo: CloseInfo | undefined
  readonly #waiters = new Set<() => void>()

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      this.messages.push(isBinary ? { binary: true } : JSON.parse(data.toString()))
      this.times.push(performance.now())
      this.#wake()
    })
    ws.on('close', (code, reason) => {
      this.closeInfo = { code, reason: reason.toString(), at: performance.now() }
      this.#wake()
    })
  }

  #wake(): void {
    for (const w of [...this.#waiters]) w()
  }

  /** Resolves with the first truthy value of `check`, re-run on every event; rejects after `timeoutMs`. */
  waitFor<T>(check: () => T | undefined, timeoutMs = 5000, what = 'a condition'): Promise<T> {
    return new Promise((resolve, reject) => {
      const run = (): boolean => {
        const v = check()
        if (v === undefined || v === false) return false
        clearTimeout(timer)
        this.#waiters.delete(wake)
        resolve(v)
        return true
      }
      const wake = () => void run()
      const timer = setTimeout(() => {
        this.#waiters.delete(wake)
        reject(
          new Error(
            `timed out after ${timeoutMs} ms waiting for ${what}; got ${JSON.stringify(this.messages.map(brief))} close=${JSON.stringify(this.closeInfo)}`,
          ),
        )
      }, timeoutMs)
      if (!run()) this.#waiters.add(wake)
    })
  }

  /** The first message matching `pred` (already received or still to come). */
  message(pred: (m: any) => boolean, timeoutMs = 5000, what = 'a message'): Promise<any> {
    return this.waitFor(() => this.messages.find(pred), timeoutMs, what)
  }

  /** Arrival time of the first message matching `pred`. */
  timeOf(pred: (m: any) => boolean): number | undefined {
    const i = this.messages.findIndex(pred)
    return i < 0 ? undefined : this.times[i]
  }

  closed(timeoutMs = 5000): Promise<CloseInfo> {
    return this.waitFor(() => this.closeInfo, timeoutMs, 'the socket to close')
  }

  send(msg: unknown): void {
    this.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg))
  }

  /**
   * Sends several messages in ONE TCP write (the socket is corked around them), so the server reads
   * them in one chunk and handles them without a turn of the event loop in between: the pipelining
   * any client may do, made deterministic.
   */
  sendPipelined(msgs: unknown[]): void {
    const raw = (this.ws as unknown as { _socket: import('node:net').Socket })._socket
    raw.cork()
    for (const m of msgs) this.send(m)
    process.nextTick(() => raw.uncork())
  }

  /** The context's terminal event (`done` or `error`). */
  terminal(contextId: string, timeoutMs = 5000): Promise<any> {
    return this.message(
      (m) => m.context_id === contextId && (m.type === 'done' || m.type === 'error'),
      timeoutMs,
      `the end of context ${contextId}`,
    )
  }
}

const brief = (m: any): unknown => (m?.type === 'chunk' ? 'chunk' : m)

/** Opens `/tts/websocket` with these headers/query, or throws with the refusal. */
export async function openInbox(
  url: string,
  opts: { headers?: Record<string, string>; query?: string } = {},
): Promise<Inbox> {
  const h = await handshake(wsUrl(url, opts.query ?? ''), opts.headers ?? {})
  if (h.status !== 101 || !h.ws) throw new Error(`handshake refused: ${h.status} ${h.body}`)
  return new Inbox(h.ws)
}

/** One parsed SSE event with its arrival time. */
export interface SseEvent {
  event: string
  data: any
  at: number
}

/**
 * Reads an SSE body; `pauseMs` between reads makes a slow client. A connection the server cuts ends
 * the read too (`cut` is then set) rather than throwing.
 */
export async function readSse(
  body: ReadableStream<Uint8Array>,
  opts: { pauseMs?: number; onEvent?: (e: SseEvent) => void } = {},
): Promise<{ events: SseEvent[]; endedAt: number; cut?: unknown }> {
  const reader = body.getReader()
  const decoder = new TextDecoder()
  const events: SseEvent[] = []
  let buf = ''
  for (;;) {
    let chunk: ReadableStreamReadResult<Uint8Array>
    try {
      chunk = await reader.read()
    } catch (cut) {
      return { events, endedAt: performance.now(), cut }
    }
    const { done, value } = chunk
    if (done) break
    buf += decoder.decode(value, { stream: true })
    let cut: number
    while ((cut = buf.indexOf('\n\n')) >= 0) {
      const frame = buf.slice(0, cut)
      buf = buf.slice(cut + 2)
      const event = /^event: (.*)$/m.exec(frame)?.[1] ?? ''
      const data = /^data: (.*)$/m.exec(frame)?.[1]
      const e = { event, data: data === undefined ? undefined : JSON.parse(data), at: performance.now() }
      events.push(e)
      opts.onEvent?.(e)
    }
    if (opts.pauseMs) await sleep(opts.pauseMs)
  }
  return { events, endedAt: performance.now() }
}

/** Reads a body slowly to its end; a cut connection ends it too, with `cut` set. */
export async function drainSlowly(
  body: ReadableStream<Uint8Array>,
  pauseMs: number,
  onFirst?: () => void,
): Promise<{ bytes: number; endedAt: number; cut?: unknown }> {
  const reader = body.getReader()
  let bytes = 0
  for (;;) {
    try {
      const { done, value } = await reader.read()
      if (done) return { bytes, endedAt: performance.now() }
      if (bytes === 0) onFirst?.()
      bytes += value.byteLength
    } catch (cut) {
      return { bytes, endedAt: performance.now(), cut }
    }
    await sleep(pauseMs)
  }
}

/** Terminates a socket for cleanup, whatever state it is in. */
export function closeQuietly(ws: WebSocket | undefined): void {
  if (ws && ws.readyState !== WebSocket.CLOSED) ws.terminate()
}
