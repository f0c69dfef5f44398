import type { OutputFormat, PhonemeTimestamps, Voice, VoicePage, VoicesQuery, WordTimestamps } from '@voxgate/protocol'

/**
 * The contract between the transports (bytes, SSE, WebSocket) and speech. Transports never see an
 * engine, a worker or a sample: they ask for encoded audio and pull it chunk by chunk, so that a slow
 * reader stops synthesis instead of making the server buffer.
 */
export interface SynthesisRequest {
  /** The text to speak; at most TRANSCRIPT_MAX_CHARS (checked by the transport). */
  text: string
  /** A catalogue voice id (already checked with `voices.get`). */
  voiceId: string
  /** Cartesia `language`; when given it overrides the voice's own language where the engine can. */
  language?: string
  /** Cartesia `locale` (`en-GB`): the accent, where the voice's engine has one; never set with `language`. */
  locale?: string
  /** Speaking rate multiplier, 0.6..1.5 (1 = normal); `<speed>` markup multiplies it. */
  speed?: number
  /** Gain after synthesis, 0.5..2 (1 = as synthesized); `<volume>` markup multiplies it. */
  volume?: number
  /** The encoding asked for. `wav` yields the header first; `mp3` is a continuous MP3 stream. */
  outputFormat: OutputFormat
  /** Yield word timestamps (seconds, relative to the start of this request's audio). */
  timestamps?: boolean
  /** Yield phoneme timestamps (seconds, relative to the start of this request's audio). */
  phonemeTimestamps?: boolean
  /** Offset added to timestamps, for WebSocket contexts fed in several segments. */
  timeOffsetSeconds?: number
  /** Told which sentences' synthesis has started, so text that was never spoken can be refunded. */
  progress?: SynthesisProgress
}

/** What synthesis tells its caller about its progress through the text. */
export interface SynthesisProgress {
  /**
   * The sentences the text was split into, in order (called once, before any starts): substrings of
   * the spoken text (`stripMarkup`), as written, before any rewriting for the engine; a `<break>` is
   * an empty string at its place.
   */
  planned(sentences: readonly string[]): void
  /** Synthesis of sentence `index` has started (look-ahead included). */
  started(index: number): void
}

export interface SynthesisChunk {
  /** Encoded audio in the requested format (may be empty when only timestamps are carried). */
  audio: Uint8Array
  /** Word timestamps for the audio of this chunk's sentence, when asked for. */
  words?: WordTimestamps
  /** Phoneme timestamps for the audio of this chunk's sentence, when asked for. */
  phonemes?: PhonemeTimestamps
  /** Seconds of audio this chunk carries. */
  durationSeconds: number
}

export interface ModelInfo {
  id: string
  /** The engine that serves it. */
  engine: string
}

export interface VoiceCatalogue {
  list(query: VoicesQuery): VoicePage
  get(id: string): Voice | undefined
}

export interface SpeechService {
  readonly voices: VoiceCatalogue
  /** Resolves a Cartesia or voxgate model id; undefined for an unknown model. */
  resolveModel(modelId: string): ModelInfo | undefined
  /**
   * Streams encoded audio sentence by sentence. Ending the iteration early (break/return) or aborting
   * `signal` cancels synthesis, including a sentence in progress in a worker.
   */
  synthesize(request: SynthesisRequest, signal?: AbortSignal): AsyncIterable<SynthesisChunk>
  close(): Promise<void>
  /** The worker pool's load (queued sentences, busy and running workers), where there is a pool. */
  load?(): { queued: number; busy: number; workers: number } | undefined
}
