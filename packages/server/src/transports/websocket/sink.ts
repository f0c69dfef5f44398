import type { WebSocket } from 'ws'
import type { ErrorEvent, StreamEvent, VoxgateError } from '@voxgate/protocol'
import { errorEvent } from '../events.ts'
import type { EventLabel } from '../sse-frame.ts'

/** Above this many queued bytes a context waits for the socket to drain before synthesizing more. */
const HIGH_WATER_BYTES = 256 * 1024
/**
 * Past this many queued bytes the client is not reading at all (error events need no synthesis, so
 * backpressure alone cannot bound them): the socket is cut.
 */
export const HARD_CAP_BYTES = 8 * 1024 * 1024

export interface EventSink {
  /** Resolves once the event is queued below the high-water mark (backpressure). */
  send(event: StreamEvent): Promise<void>
  errorEvent(err: VoxgateError, contextId?: string): ErrorEvent
  /** What every event on this socket is labelled with (a gateway fallback's `fallback: "local"`). */
  readonly label: EventLabel
}

/** JSON text frames only (PROTOCOL.md §6.1); waits for the kernel to take data when the queue is deep. */
export function socketSink(
  ws: WebSocket,
  requestId: string,
  onOverflow: () => void,
  label: EventLabel = {},
): EventSink {
  return {
    label,
    send(event) {
      if (ws.readyState !== ws.OPEN) return Promise.resolve()
      if (ws.bufferedAmount > HARD_CAP_BYTES) {
        onOverflow()
        return Promise.resolve()
      }
      const data = JSON.stringify(label.fallback ? { ...event, fallback: label.fallback } : event)
      if (ws.bufferedAmount < HIGH_WATER_BYTES) {
        ws.send(data)
        return Promise.resolve()
      }
      return new Promise((resolve) => ws.send(data, () => resolve()))
    },
    errorEvent: (err, contextId) => errorEvent(err, requestId, contextId),
  }
}
