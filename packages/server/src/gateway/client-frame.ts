import { isUtf8 } from 'node:buffer'
import type { RawData } from 'ws'
import { VoxgateError } from '@voxgate/protocol'

/** What a client's frame on a relayed TTS socket turned out to be, read as the local socket reads it. */
export type ClientFrame =
  | { kind: 'json'; text: string; msg: unknown }
  /** Refused with an error event; the socket stays open. */
  | { kind: 'refused'; error: VoxgateError }
  /** A text frame that is not UTF-8: the socket closes with 1007. */
  | { kind: 'invalid_utf8'; error: VoxgateError }

/**
 * The local socket's rules (transports/websocket/socket.ts), kept here for the relay: the size limit,
 * JSON in text frames, UTF-8 checked by us. The text is kept for the duplicate-key check
 * (duplicate-keys.ts); what is forwarded is the parsed message, re-serialized.
 */
export function readClientFrame(data: RawData, isBinary: boolean, maxBytes: number): ClientFrame {
  const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data)
  if (bytes.byteLength > maxBytes)
    return {
      kind: 'refused',
      error: new VoxgateError('message_too_large', `Messages are limited to ${maxBytes} bytes.`),
    }
  if (isBinary) return { kind: 'refused', error: new VoxgateError('invalid_request', 'Send JSON in text frames.') }
  if (!isUtf8(bytes))
    return { kind: 'invalid_utf8', error: new VoxgateError('invalid_request', 'A text frame was not valid UTF-8.') }
  const text = bytes.toString('utf8')
  try {
    return { kind: 'json', text, msg: JSON.parse(text) }
  } catch {
    return { kind: 'refused', error: new VoxgateError('invalid_request', 'The message is not valid JSON.') }
  }
}

/** The fields of an upstream event the relay reads to track contexts; the event itself goes on as received. */
export interface UpstreamEvent {
  type?: unknown
  context_id?: unknown
  data?: unknown
  /** An `error` event's HTTP-style status: a 5xx is the upstream's own failure. */
  status_code?: unknown
}

export function readUpstreamEvent(text: string): UpstreamEvent | undefined {
  try {
    const parsed: unknown = JSON.parse(text)
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as UpstreamEvent)
      : undefined
  } catch {
    return undefined
  }
}
