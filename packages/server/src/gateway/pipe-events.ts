import type { IncomingMessage, ServerResponse } from 'node:http'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { VoxgateError } from '@voxgate/protocol'
import { errorEvent } from '../transports/events.ts'
import { cutAfterGrace, hardClose } from '../sockets/hard-close.ts'
import { revoked } from '../transports/speech-stream.ts'
import { sseFrame } from '../transports/sse-frame.ts'
import { drainedWrite } from '../transports/drained-write.ts'
import { startEventStream } from '../transports/event-stream-head.ts'
import type { CircuitTicket } from './circuit-breaker.ts'
import type { RelayHandle } from './relay-stream.ts'
import { type SseFrame, SseFrames } from './sse-frames.ts'
import { idleError, UpstreamIdle } from './upstream-idle.ts'

const TERMINAL = new Set(['done', 'error'])

/** How long the rest of an upstream answer may take to arrive after its terminal event before it is dropped. */
const DRAIN_MS = 2000

export interface PipeEventsOptions {
  /** Milliseconds of audio per byte of a chunk's decoded `data`, for the ledger. */
  perByte: number
  /** The request's `context_id`, for voxgate's own `error` event. */
  contextId?: string
  /** The upstream's idle limit while it is read (`--upstream-idle-seconds`). */
  idleMs?: number
  /** Told how the relay ended: its `done` (or a client's error) answered, a cut, stall or 5xx `error` failed, the client gone abandoned. */
  circuit: CircuitTicket
}

/**
 * Sends the upstream's SSE answer to the client: its events forwarded whole, as they arrive, up to
 * its terminal event. A stream that ends without one (cut mid-way) or is revoked ends with voxgate's
 * `error` event, then the response ends (SDK4's iterator stops only when the body does). After the
 * terminal event the client's response ends at once, and the upstream answer is read to its end (not
 * destroyed), so its kept-alive connection goes back to the pool: against a remote upstream, a
 * destroyed one would cost the next request a TCP and TLS handshake.
 */
export async function pipeEvents(
  request: FastifyRequest,
  reply: FastifyReply,
  from: IncomingMessage,
  stream: RelayHandle,
  options: PipeEventsOptions,
): Promise<void> {
  const { perByte, contextId, idleMs = Number.POSITIVE_INFINITY, circuit } = options
  const res = startEventStream(reply)
  const socket = res.socket
  let draining = false
  stream.signal.addEventListener(
    'abort',
    () => {
      if (!from.complete && !draining) from.destroy()
      // As for local speech: the error event gets a short grace, then a reader far behind is cut (at
      // once when the response has finished: no event is to come).
      if (!revoked(stream.signal)) return
      if (res.writableFinished) hardClose(socket)
      else cutAfterGrace(socket, () => socket?.destroyed ?? true)
    },
    { once: true },
  )
  let finished = false
  const finish = () => {
    if (finished) return
    finished = true
    stream.end()
    if (revoked(stream.signal)) res.end(() => socket?.end())
    else res.end()
  }
  const drain = (terminal: SseFrame) => {
    // The verdict before the client's response ends: its next request meets the circuit as it now is.
    if (serverErrorOf(terminal)) circuit.failed()
    else circuit.answered()
    draining = true
    finish()
    const guard = setTimeout(() => from.destroy(), DRAIN_MS)
    guard.unref()
    from.once('close', () => clearTimeout(guard))
  }
  try {
    if (!(await forward(from, res, stream, perByte, drain, idleMs)))
      throw new VoxgateError('upstream_error', 'The upstream stream ended before its last event.')
  } catch (err) {
    // A cut, a stall or a frame too large is the upstream's; a revocation or the client leaving is not.
    if (stream.signal.aborted) circuit.abandoned()
    else circuit.failed()
    const reason = stream.signal.aborted && stream.signal.reason instanceof VoxgateError ? stream.signal.reason : err
    const coded =
      reason instanceof VoxgateError ? reason : new VoxgateError('upstream_error', 'The upstream stream was cut.')
    await drainedWrite(res, sseFrame(errorEvent(coded, request.id, contextId)), stream.signal)
  } finally {
    finish()
  }
}

/** Whether a terminal `error` event is the upstream's own failure (a 5xx `status_code`), not the request's. */
function serverErrorOf(frame: SseFrame): boolean {
  return frame.type === 'error' && (frame.statusCode ?? 0) >= 500
}

/**
 * Forwards whole frames until the terminal event, then calls `onTerminal` and reads the rest of the
 * upstream answer without forwarding it. Returns whether the terminal event went out. The upstream
 * may be silent for `idleMs` while voxgate waits for its next chunk (not while it writes to a slow client).
 */
async function forward(
  from: IncomingMessage,
  to: ServerResponse,
  stream: RelayHandle,
  perByte: number,
  onTerminal: (frame: SseFrame) => void,
  idleMs: number,
): Promise<boolean> {
  const frames = new SseFrames()
  let terminal: SseFrame | undefined
  const idle = new UpstreamIdle(idleMs, () => from.destroy(idleError(idleMs)))
  idle.wait()
  try {
    for await (const chunk of from as AsyncIterable<Buffer>) {
      idle.hold()
      if (terminal) continue
      for (const frame of frames.push(chunk)) {
        stream.produced(frame.audioBytes * perByte)
        await drainedWrite(to, frame.text, stream.signal)
        if (frame.type !== undefined && TERMINAL.has(frame.type)) {
          terminal = frame
          onTerminal(frame)
          break
        }
      }
      if (!terminal && stream.signal.aborted) throw stream.signal.reason
      if (!terminal) idle.wait()
    }
  } catch (err) {
    // Once the terminal event is out, the rest of the answer no longer matters to anyone.
    if (!terminal) throw err
  } finally {
    idle.hold()
  }
  return terminal !== undefined
}
