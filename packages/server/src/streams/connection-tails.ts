import type { Socket } from 'node:net'
import type { VoxgateError } from '@voxgate/protocol'
import type { Principal } from '../auth/principal.ts'

/** What a tail is told: its credential was revoked (cut the connection), or its connection moved on. */
export interface TailEvents {
  revoked(error: VoxgateError): void
  ended(): void
}

interface Tail extends TailEvents {
  principal: Principal
}

/**
 * The connections whose last response was an HTTP stream, watched until they close or carry their
 * next request. A response "closes" once its last bytes are handed to the kernel, but megabytes may
 * still wait there for a slow reader (send buffers grow to 4 MB on Linux): the server cannot see them
 * read, only the connection moving on. Until then a revocation still reaches the stream (its
 * transport resets the connection, which drops what is queued). A tail holds no slot and no figure:
 * a kept-alive connection idle after a stream read to its end looks exactly like a paused reader.
 */
export class ConnectionTails {
  readonly #bySocket = new Map<Socket, Set<Tail>>()
  /** Sockets whose close this already listens for (one listener per connection, however many streams). */
  readonly #listening = new WeakSet<Socket>()

  /** Watches `socket` for `principal`'s stream until the connection closes or carries a new request. */
  hold(socket: Socket, principal: Principal, events: TailEvents): void {
    if (socket.destroyed) return events.ended()
    let tails = this.#bySocket.get(socket)
    if (!tails) {
      tails = new Set()
      this.#bySocket.set(socket, tails)
    }
    if (!this.#listening.has(socket)) {
      this.#listening.add(socket)
      socket.once('close', () => this.moved(socket))
    }
    tails.add({ principal, ...events })
  }

  /** The connection carries a new request or closed: what it sent before has been read or is gone. */
  moved(socket: Socket): void {
    const tails = this.#bySocket.get(socket)
    if (!tails) return
    this.#bySocket.delete(socket)
    for (const tail of tails) tail.ended()
  }

  /** Ends the tails whose credential `revoked` says is no longer valid, telling them `error()`. */
  sweep(revoked: (p: Principal) => boolean, error: () => VoxgateError): void {
    for (const [socket, tails] of this.#bySocket) {
      for (const tail of tails) {
        if (!revoked(tail.principal)) continue
        tails.delete(tail)
        tail.revoked(error())
      }
      if (tails.size === 0) this.#bySocket.delete(socket)
    }
  }

  /** Stops watching everything (shutdown: the connections are closed next). */
  clear(): void {
    for (const socket of [...this.#bySocket.keys()]) this.moved(socket)
  }

  /** Connections watched now. */
  get size(): number {
    return this.#bySocket.size
  }
}
