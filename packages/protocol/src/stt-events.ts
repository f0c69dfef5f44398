import type { ErrorCode } from './errors.ts'

/** Cartesia's STT audio encodings (SDK 4.2 `STTEncoding`), all little-endian mono. */
export const STT_ENCODINGS = ['pcm_s16le', 'pcm_s32le', 'pcm_f16le', 'pcm_f32le', 'pcm_mulaw', 'pcm_alaw'] as const
export type SttEncoding = (typeof STT_ENCODINGS)[number]

/** Bytes per sample of each encoding. */
export const STT_BYTES_PER_SAMPLE: Readonly<Record<SttEncoding, number>> = {
  pcm_s16le: 2,
  pcm_s32le: 4,
  pcm_f16le: 2,
  pcm_f32le: 4,
  pcm_mulaw: 1,
  pcm_alaw: 1,
}

export const STT_SAMPLE_RATE_MIN = 8000
export const STT_SAMPLE_RATE_MAX = 48000
/** `keyterm`: at most this many terms and this many characters in all (Cartesia's documented caps). */
export const STT_KEYTERMS_MAX = 100
export const STT_KEYTERM_CHARS_MAX = 1200

/** One recognised word, seconds from the start of the stream or file (PROTOCOL-STT.md §1b). */
export interface SttWord {
  word: string
  start: number
  end: number
}

/**
 * `/stt/websocket` transcript. `text` is the delta since the previous final, with its leading space
 * after the first: the full transcript is the concatenation of the finals' `text`.
 */
export interface SttTranscriptEvent {
  type: 'transcript'
  is_final: boolean
  request_id: string
  text: string
  /** Finals only: seconds of audio received on the stream so far. */
  duration?: number
  language?: string
  /** Finals only. */
  words?: SttWord[]
}

export interface SttFlushDoneEvent {
  type: 'flush_done'
  request_id: string
}

export interface SttDoneEvent {
  type: 'done'
  request_id: string
}

/** Cartesia's `STTErrorResponse`. */
export interface SttErrorEvent {
  type: 'error'
  error_code: ErrorCode
  title: string
  message: string
  status_code: number
  request_id: string
}

export type SttEvent = SttTranscriptEvent | SttFlushDoneEvent | SttDoneEvent | SttErrorEvent

/** `/stt/turns/websocket` events; `transcript` of `turn.update` is cumulative within the turn. */
export type SttTurnEvent =
  | { type: 'connected'; request_id: string }
  | { type: 'turn.start'; request_id: string }
  | { type: 'turn.update'; transcript: string; request_id: string }
  | { type: 'turn.eager_end'; transcript: string; request_id: string }
  | { type: 'turn.resume'; request_id: string }
  | { type: 'turn.end'; transcript: string; request_id: string }
  | SttErrorEvent

/** `POST /stt` and `POST /audio/transcriptions` answer. `words` only with `timestamp_granularities[]=word`. */
export interface SttBatchResponse {
  type: 'transcript'
  text: string
  request_id: string
  language: string
  duration: number
  words?: SttWord[]
}
