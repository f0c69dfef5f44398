import type { ErrorCode } from './errors.ts'

/** Word timings in seconds (PROTOCOL.md §5.2). */
export interface WordTimestamps {
  words: string[]
  start: number[]
  end: number[]
}

/** Phoneme timings in seconds, in the order spoken (IPA where the engine gives it). */
export interface PhonemeTimestamps {
  phonemes: string[]
  start: number[]
  end: number[]
}

export interface ChunkEvent {
  type: 'chunk'
  data: string
  done: false
  status_code: 206
  step_time: number
  context_id?: string
  flush_id?: number
}

export interface TimestampsEvent {
  type: 'timestamps'
  done: false
  status_code: 206
  word_timestamps: WordTimestamps
  context_id?: string
  flush_id?: number
}

export interface PhonemeTimestampsEvent {
  type: 'phoneme_timestamps'
  done: false
  status_code: 206
  phoneme_timestamps: PhonemeTimestamps
  context_id?: string
  flush_id?: number
}

export interface FlushDoneEvent {
  type: 'flush_done'
  done: false
  flush_done: true
  flush_id: number
  status_code: 206
  context_id: string
}

export interface DoneEvent {
  type: 'done'
  done: true
  status_code: 206
  context_id?: string
}

export interface ErrorEvent {
  type: 'error'
  done: true
  status_code: number
  error_code: ErrorCode
  title: string
  message: string
  request_id: string
  context_id?: string
  /** Legacy (≤2025-04-16) clients read a plain string here. */
  error: string
}

/** voxgate extension: the answer to an in-band `refresh_token` message. */
export interface TokenRefreshedEvent {
  type: 'token_refreshed'
  expires_at: number | null
}

export type StreamEvent =
  | ChunkEvent
  | TimestampsEvent
  | PhonemeTimestampsEvent
  | FlushDoneEvent
  | DoneEvent
  | ErrorEvent
  | TokenRefreshedEvent
