import type { RawEncoding, WordTimestamps } from '@voxgate/protocol'

export type { RawEncoding, Voice, VoicePage, WordTimestamps } from '@voxgate/protocol'

/** How `speak` reaches the server; all three take the same request and yield the same chunks. */
export type Transport = 'bytes' | 'sse' | 'websocket'

/** Raw PCM output (the only container the three streaming transports share). */
export interface RawOutputFormat {
  container: 'raw'
  encoding: RawEncoding
  /** Hz, 8000..48000. */
  sample_rate: number
}

/** A text-to-speech request in Cartesia's wire shape (PROTOCOL.md §4–§6). */
export interface SpeakRequest {
  /** For example `'sonic-3'`. */
  model_id: string
  transcript: string
  /** A voice id, or `{ id }`. */
  voice: string | { id: string }
  output_format: RawOutputFormat
  language?: string
  generation_config?: { volume?: number; speed?: number; emotion?: string }
  /** Ask for word timestamps (SSE and WebSocket); they arrive through `onTimestamps`. */
  add_timestamps?: boolean
}

/** One piece of audio as it arrives: whole samples only, ready to decode or play. */
export interface SpeechChunk {
  /** PCM bytes in `encoding`, little-endian, mono. */
  audio: Uint8Array
  encoding: RawEncoding
  sampleRate: number
  /** Number of samples in `audio`. */
  samples: number
  /** 0, 1, 2… within this stream. */
  index: number
  transport: Transport
  /** The WebSocket context (or SSE `context_id`) the chunk belongs to. */
  contextId?: string
  /** The flush segment (WebSocket contexts with `flush()`). */
  flushId?: number
}

/** Per-call options of `speak`. */
export interface SpeakOptions {
  /** @default 'websocket' */
  transport?: Transport
  /** Aborting ends the stream with an `ERR_ABORTED` error and cancels the request on the server. */
  signal?: AbortSignal
  /** Receives word timestamps when the request sets `add_timestamps`. */
  onTimestamps?: (timestamps: WordTimestamps) => void
}

/** The result of `speak`: PCM chunks as they arrive, and a way to stop early. */
export interface SpeechStream extends AsyncIterable<SpeechChunk> {
  /** Stops the stream; iteration ends without an error. */
  cancel(): void
}

/**
 * The subset of the WHATWG WebSocket the SDK uses; the browser's `WebSocket` and the `ws` package
 * both fit.
 */
export interface WebSocketLike {
  readonly readyState: number
  send(data: string | ArrayBufferView | ArrayBuffer): void
  close(code?: number, reason?: string): void
  // biome-ignore lint/suspicious/noExplicitAny: a DOM handler takes an Event; `any` keeps a browser WebSocket assignable
  onopen: ((ev: any) => void) | null
  onmessage: ((ev: { data: unknown }) => void) | null
  onclose: ((ev: { code: number; reason?: string }) => void) | null
  // biome-ignore lint/suspicious/noExplicitAny: a DOM handler takes an Event; `any` keeps a browser WebSocket assignable
  onerror: ((ev: any) => void) | null
}

export type WebSocketConstructor = new (url: string) => WebSocketLike
