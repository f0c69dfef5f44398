import type { Socket } from 'node:net'
import { STT_BYTES_PER_SAMPLE, VoxgateError, type SttEncoding, type SttErrorEvent } from '@voxgate/protocol'
import type { WebSocket } from 'ws'
import type { Principal } from '../auth/principal.ts'
import type { SttContext } from '../stt/service.ts'
import type { StreamLease } from '../streams/registry.ts'
import { CLOSE_INTERNAL, CLOSE_POLICY } from '../sockets/close-codes.ts'
import { SocketLife, type SocketRole, STT_SOCKET } from '../sockets/life.ts'
import type { FromWorker } from './messages.ts'
import type { Recognizer } from './pool.ts'
import type { AudioAllowance } from './allowance.ts'

export type RecognitionMessage = Exclude<FromWorker, { type: 'ready' | 'boot_failed' | 'progress' | 'failed' }>

export interface SttSocketInit {
  ctx: SttContext
  ws: WebSocket
  tcp: Socket
  principal: Principal
  recognizer: Recognizer
  lease: StreamLease
  /** The stream's audio, metered against the token's budget. */
  allowance: AudioAllowance
  requestId: string
  encoding: SttEncoding
  sampleRate: number
  /**
   * Gateway mode's local fallback (gateway/stt-socket-fallback.ts): the upstream failed the socket's
   * handshake, so every event says `fallback: "local"`: the client knows who heard it.
   */
  fallback?: boolean
  /**
   * The client's socket was open already: a relay whose upstream went mid-way handed it to this one
   * (gateway/stt-socket-relay.ts), so greetings the client had from the upstream are not sent again.
   */
  tookOver?: boolean
}

/**
 * What both STT WebSockets share: binary frames are audio, charged to the token's audio budget and
 * bounded by the recogniser's backlog; the stream slot, revocation (4401), token expiry past the
 * session grace (4401), idleness (1000) and shutdown (1001). Subclasses own the text commands and the
 * events.
 */
export abstract class SttSocket {
  protected readonly ctx: SttContext
  protected readonly requestId: string
  protected readonly recognizer: Recognizer
  /** A `close` command was received: audio after it is ignored. */
  protected ending = false
  readonly #ws: WebSocket
  readonly #life: SocketLife
  readonly #allowance: AudioAllowance
  readonly #bytesPerSecond: number
  readonly #fallback: boolean
  #backlogBytes = 0

  constructor(init: SttSocketInit) {
    this.ctx = init.ctx
    this.#ws = init.ws
    this.recognizer = init.recognizer
    this.#allowance = init.allowance
    this.requestId = init.requestId
    this.#bytesPerSecond = STT_BYTES_PER_SAMPLE[init.encoding] * init.sampleRate
    this.#fallback = init.fallback ?? false
    this.recognizer.onMessage = (msg) => this.#fromRecognizer(msg)
    this.recognizer.send({ type: 'open', encoding: init.encoding, sampleRate: init.sampleRate })
    const { ctx, ws, tcp, principal } = init
    this.#life = new SocketLife({
      ctx,
      kind: STT_SOCKET,
      ws,
      tcp,
      principal,
      role: this.#role(init),
      registry: ctx.stt.sockets,
    })
  }

  /** The recogniser, the audio budget's reservation and the stream slot go back with the socket. */
  #role({ allowance, lease }: SttSocketInit): SocketRole {
    return {
      message: (data, isBinary) => this.#onMessage(data as Buffer, isBinary),
      closing: (err) => err && this.sendError(err),
      teardown: () => {
        this.recognizer.release()
        allowance.close()
        lease.release()
      },
    }
  }

  /** The lease's revocation callback: revoked credentials close with 4401, shutdown with 1001. */
  revoked(err: VoxgateError): void {
    this.#life.revoked(err)
  }

  protected abstract onText(text: string): void
  protected abstract onRecognition(msg: RecognitionMessage): void
  /** The recogniser has heard `seconds` of this stream's audio (the stream's audio clock). */
  protected onProgress(_seconds: number): void {}

  protected send(event: object): void {
    if (this.#ws.readyState === this.#ws.OPEN)
      this.#ws.send(JSON.stringify(this.#fallback ? { ...event, fallback: 'local' } : event))
  }

  /** An `error` event in Cartesia's STT shape; the socket stays open unless the caller closes it. */
  protected sendError(err: VoxgateError): void {
    const event: SttErrorEvent = { type: 'error', ...err.toBody(this.requestId), status_code: err.status }
    this.send(event)
  }

  /** Sends `err` (if any) as the last event, then closes. Idempotent. */
  close(code: number, err?: VoxgateError): void {
    this.#life.close(code, err)
  }

  #onMessage(data: Buffer, isBinary: boolean): void {
    if (isBinary) return this.#onAudio(data)
    this.onText(data.toString('utf8'))
  }

  #onAudio(bytes: Buffer): void {
    if (this.ending || bytes.length === 0) return
    const seconds = bytes.length / this.#bytesPerSecond
    const refused = this.#allowance.take(seconds)
    if (refused) return this.close(CLOSE_POLICY, refused)
    const backlog = (this.#backlogBytes + bytes.length) / this.#bytesPerSecond
    if (backlog > this.ctx.config.sttMaxBacklogSeconds) {
      return this.close(
        CLOSE_POLICY,
        new VoxgateError(
          'rate_limited',
          `Audio is arriving faster than it can be recognised (more than ${this.ctx.config.sttMaxBacklogSeconds} s waiting). Send it in real time.`,
        ),
      )
    }
    this.#backlogBytes += bytes.length
    this.recognizer.send({ type: 'audio', bytes })
  }

  #fromRecognizer(msg: Exclude<FromWorker, { type: 'ready' | 'boot_failed' }>): void {
    if (this.#life.state !== 'open') return
    if (msg.type === 'progress') {
      this.#backlogBytes = Math.max(0, this.#backlogBytes - msg.bytes)
      this.onProgress(msg.seconds)
    } else if (msg.type === 'failed') this.close(CLOSE_INTERNAL, new VoxgateError('internal_error', msg.message))
    else this.onRecognition(msg)
  }
}
