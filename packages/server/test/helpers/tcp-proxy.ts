import net from 'node:net'

/**
 * A TCP proxy in front of a real service (PostgreSQL, Redis) that a test can break: `sever()` cuts
 * every connection and refuses new ones; `stall()` keeps connections open but delivers nothing either
 * way (a dead link); `restore()` serves again on the same port.
 */
export class TcpProxy {
  readonly #server = net.createServer((client) => this.#accept(client))
  readonly #sockets = new Set<net.Socket>()
  #stalled = false
  port = 0

  protected constructor(private readonly target: { host: string; port: number }) {}

  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    return TcpProxy.listen(new TcpProxy(target))
  }

  protected static async listen<T extends TcpProxy>(proxy: T): Promise<T> {
    await new Promise<void>((resolve) => proxy.#server.listen(0, '127.0.0.1', resolve))
    proxy.port = (proxy.#server.address() as net.AddressInfo).port
    return proxy
  }

  /** `url` with this proxy as its host and port. */
  via(url: string): URL {
    const u = new URL(url)
    u.host = `127.0.0.1:${this.port}`
    return u
  }

  #accept(client: net.Socket): void {
    this.#sockets.add(client)
    client.on('close', () => this.#sockets.delete(client)).on('error', () => undefined)
    if (this.#stalled) return
    const upstream = net.connect(this.target.port, this.target.host)
    this.#sockets.add(upstream)
    upstream.on('close', () => this.#sockets.delete(upstream)).on('error', () => undefined)
    client.pipe(upstream).pipe(client)
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
  }

  stall(): void {
    this.#stalled = true
    for (const s of this.#sockets) {
      s.unpipe()
      s.pause()
    }
  }

  async sever(): Promise<void> {
    for (const s of this.#sockets) s.destroy()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }

  /** Serves again on the same port after `sever()` (the service is back). */
  async restore(): Promise<void> {
    this.#stalled = false
    await new Promise<void>((resolve) => this.#server.listen(this.port, '127.0.0.1', resolve))
  }
}
