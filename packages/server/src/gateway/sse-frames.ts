import { StringDecoder } from 'node:string_decoder'

/** One upstream SSE frame, whole, as received (its blank-line terminator included). */
export interface SseFrame {
  text: string
  /** The event's `type`, when its data is JSON with one (`chunk`, `done`, `error`, ...). */
  type: string | undefined
  /** Bytes of audio a `chunk` event carries (its base64 `data`, measured without decoding). */
  audioBytes: number
  /** The event's `status_code`, when it has a numeric one (an `error` event's says whose failure it is). */
  statusCode?: number
}

/** A frame longer than this is not SSE voxgate can relay (a chunk event is tens of kilobytes). */
export const MAX_FRAME_CHARS = 4 * 1024 * 1024

const BOUNDARY = /\r?\n\r?\n/

/**
 * Splits an upstream SSE body into whole frames, so the relay forwards only complete events: if
 * the upstream stream is cut mid-event, the client's stream still ends with a well-formed `error`
 * event instead of half a frame glued to it.
 */
export class SseFrames {
  #decoder = new StringDecoder('utf8')
  #pending = ''

  /** The frames completed by `chunk`; throws RangeError when a frame grows past MAX_FRAME_CHARS. */
  push(chunk: Buffer): SseFrame[] {
    this.#pending += this.#decoder.write(chunk)
    const frames: SseFrame[] = []
    for (let m = BOUNDARY.exec(this.#pending); m; m = BOUNDARY.exec(this.#pending)) {
      const end = m.index + m[0].length
      frames.push(describe(this.#pending.slice(0, end)))
      this.#pending = this.#pending.slice(end)
    }
    if (this.#pending.length > MAX_FRAME_CHARS) throw new RangeError('upstream SSE frame too large')
    return frames
  }
}

function describe(text: string): SseFrame {
  const data = text
    .split(/\r?\n/)
    .filter((l) => l.startsWith('data:'))
    .map((l) => l.slice(5).trimStart())
    .join('\n')
  try {
    const event = JSON.parse(data) as { type?: unknown; data?: unknown; status_code?: unknown }
    const type = typeof event.type === 'string' ? event.type : undefined
    return {
      text,
      type,
      audioBytes: type === 'chunk' && typeof event.data === 'string' ? base64Bytes(event.data) : 0,
      ...(typeof event.status_code === 'number' && { statusCode: event.status_code }),
    }
  } catch {
    return { text, type: undefined, audioBytes: 0 }
  }
}

function base64Bytes(b64: string): number {
  const padding = b64.endsWith('==') ? 2 : b64.endsWith('=') ? 1 : 0
  return Math.floor((b64.length * 3) / 4) - padding
}
