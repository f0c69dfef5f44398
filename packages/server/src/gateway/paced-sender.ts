import type WebSocket from 'ws'
import { HARD_CAP_BYTES } from '../transports/websocket/sink.ts'

/** Above this many bytes queued for the receiving socket, the sending side is no longer read. */
export const RELAY_HIGH_WATER_BYTES = 256 * 1024

/**
 * Frames relayed from one socket to another with backpressure carried through: when the receiver
 * does not read and its queue passes the high-water mark, the source socket is paused (TCP then slows
 * whoever writes to it), and resumed once everything queued has reached the kernel. The gateway so
 * holds, per direction, at most the high-water mark plus what the source had already read.
 */
export class PacedSender {
  /** Frames sent while paused; only the last one's write resumes the source. */
  #sent = 0
  #paused = false

  constructor(
    private readonly to: WebSocket,
    private readonly from: WebSocket,
    /** The receiver's queue is past the hard cap anyway (frames voxgate makes itself need no source): cut it. */
    private readonly onOverflow: () => void,
  ) {}

  send(data: string | Buffer, binary = false): void {
    if (this.to.readyState !== this.to.OPEN) return
    if (this.to.bufferedAmount > HARD_CAP_BYTES) return this.onOverflow()
    if (!this.#paused && this.to.bufferedAmount < RELAY_HIGH_WATER_BYTES) return this.to.send(data, { binary })
    if (!this.#paused) {
      this.#paused = true
      this.from.pause()
    }
    const seq = ++this.#sent
    this.to.send(data, { binary }, () => {
      if (seq !== this.#sent) return
      this.#paused = false
      this.from.resume()
    })
  }
}
