/** One server-sent event: its `event:` name (default `message`) and its joined `data:` lines. */
export interface SseMessage {
  event: string
  data: string
}

/**
 * Parses a text/event-stream body incrementally (WHATWG rules for `event:` / `data:`, comments
 * skipped, CRLF, CR or LF line ends). Feed decoded text; complete events come back.
 */
export class SseParser {
  #buffer = ''
  #event = ''
  #data: string[] = []

  feed(text: string): SseMessage[] {
    this.#buffer += text
    const out: SseMessage[] = []
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.#buffer)
      // A lone CR at the end may be the first half of CRLF: wait for more.
      if (!m || (m[0] === '\r' && m.index === this.#buffer.length - 1)) break
      const line = this.#buffer.slice(0, m.index)
      this.#buffer = this.#buffer.slice(m.index + m[0].length)
      const msg = this.#line(line)
      if (msg) out.push(msg)
    }
    return out
  }

  #line(line: string): SseMessage | undefined {
    if (line === '') {
      const msg = this.#data.length > 0 ? { event: this.#event || 'message', data: this.#data.join('\n') } : undefined
      this.#event = ''
      this.#data = []
      return msg
    }
    if (line.startsWith(':')) return undefined
    const colon = line.indexOf(':')
    const field = colon < 0 ? line : line.slice(0, colon)
    let value = colon < 0 ? '' : line.slice(colon + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    if (field === 'event') this.#event = value
    else if (field === 'data') this.#data.push(value)
    return undefined
  }
}
