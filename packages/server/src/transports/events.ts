import type {
  ChunkEvent,
  DoneEvent,
  ErrorEvent,
  PhonemeTimestamps,
  PhonemeTimestampsEvent,
  TimestampsEvent,
  VoxgateError,
  WordTimestamps,
} from '@voxgate/protocol'

/** Builders for the stream events of SSE and WebSocket (PROTOCOL.md §5.2, §6.3). */
const ctx = (contextId: string | undefined) => (contextId === undefined ? {} : { context_id: contextId })
const flush = (flushId: number | undefined) => (flushId === undefined ? {} : { flush_id: flushId })

export const chunkEvent = (
  audio: Uint8Array,
  stepTimeMs: number,
  contextId?: string,
  flushId?: number,
): ChunkEvent => ({
  type: 'chunk',
  data: Buffer.from(audio.buffer, audio.byteOffset, audio.byteLength).toString('base64'),
  done: false,
  status_code: 206,
  step_time: Math.round(stepTimeMs * 100) / 100,
  ...ctx(contextId),
  ...flush(flushId),
})

export const timestampsEvent = (words: WordTimestamps, contextId?: string, flushId?: number): TimestampsEvent => ({
  type: 'timestamps',
  done: false,
  status_code: 206,
  word_timestamps: words,
  ...ctx(contextId),
  ...flush(flushId),
})

export const phonemeTimestampsEvent = (
  phonemes: PhonemeTimestamps,
  contextId?: string,
  flushId?: number,
): PhonemeTimestampsEvent => ({
  type: 'phoneme_timestamps',
  done: false,
  status_code: 206,
  phoneme_timestamps: phonemes,
  ...ctx(contextId),
  ...flush(flushId),
})

export const doneEvent = (contextId?: string): DoneEvent => ({
  type: 'done',
  done: true,
  status_code: 206,
  ...ctx(contextId),
})

export const errorEvent = (err: VoxgateError, requestId: string, contextId?: string): ErrorEvent => {
  const body = err.toBody(requestId)
  return {
    type: 'error',
    done: true,
    status_code: err.status,
    ...body,
    error: `${body.title}: ${body.message}`,
    ...ctx(contextId),
  }
}
