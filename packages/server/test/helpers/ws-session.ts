import WebSocket from 'ws'

/**
 * A test-side WebSocket session: sends JSON, buffers every event, and lets a test wait for the
 * event(s) it expects by predicate, with the whole history kept for assertions.
 */
export class WsSession {
  readonly events: any[] = []
  closeCode: number | undefined
  #waiters: { match: (e: any) => boolean; resolve: (e: any) => void }[] = []
  #closed: Promise<number>

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const e = JSON.parse(data.toString())
      this.events.push(e)
      this.#waiters = this.#waiters.filter((w) => {
        if (!w.match(e)) return true
        w.resolve(e)
        return false
      })
    })
    this.#closed = new Promise((resolve) =>
      ws.once('close', (code) => {
        this.closeCode = code
        resolve(code)
      }),
    )
  }

  static open(url: string, headers: Record<string, string> = {}): Promise<WsSession> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { headers })
      const session = new WsSession(ws)
      ws.once('open', () => resolve(session))
      ws.once('error', reject)
    })
  }

  send(msg: unknown): void {
    this.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg))
  }

  /** Resolves with the first event (already received or future) that matches. */
  next(match: (e: any) => boolean): Promise<any> {
    const seen = this.events.find(match)
    if (seen) return Promise.resolve(seen)
    return new Promise((resolve) => this.#waiters.push({ match, resolve }))
  }

  /** The terminal event (`done` or `error`) of a context. */
  end(contextId: string): Promise<any> {
    return this.next((e) => e.context_id === contextId && e.done === true)
  }

  of(contextId: string): any[] {
    return this.events.filter((e) => e.context_id === contextId)
  }

  closed(): Promise<number> {
    return this.#closed
  }

  close(): void {
    this.ws.close()
  }
}
