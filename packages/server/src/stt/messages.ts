import type { SttEncoding, SttWord } from '@voxgate/protocol'
import type { RawPcm } from './audio-file.ts'
import type { CmnState } from './pocketsphinx.ts'

/** Why an utterance ended: the recogniser's voice-activity detector, the client's `finalize`, or the end of the audio. */
export type FinalReason = 'vad' | 'finalize' | 'end'

/**
 * Main thread → recognition worker. `session` numbers each use of the worker, so that a late message
 * of a finished session is recognised and dropped.
 */
export type ToWorker =
  | { type: 'open'; session: number; encoding: SttEncoding; sampleRate: number }
  | { type: 'audio'; session: number; bytes: Uint8Array }
  | { type: 'finalize'; session: number }
  | { type: 'end'; session: number }
  /** Decode an uploaded file and hold it; the answer is `decoded` with its duration. */
  | { type: 'file'; session: number; bytes: Uint8Array; raw: RawPcm | undefined; maxSeconds: number }
  /** Recognise the file held since `file`. */
  | { type: 'recognize'; session: number }

export type FromWorker =
  /** Loaded, and starting every session from `calibration` (calibration.ts). */
  | { type: 'ready'; calibration: CmnState }
  | { type: 'boot_failed'; message: string }
  | { type: 'speech_start'; session: number }
  | { type: 'partial'; session: number; text: string }
  /** `seconds`: of the session's audio received when the utterance ended. */
  | { type: 'final'; session: number; words: SttWord[]; reason: FinalReason; seconds: number }
  /** An `audio` message has been recognised: `bytes` of it, `seconds` of the session's audio so far. */
  | { type: 'progress'; session: number; bytes: number; seconds: number }
  | { type: 'flushed'; session: number }
  | { type: 'ended'; session: number; seconds: number }
  | { type: 'decoded'; session: number; seconds: number }
  | {
      type: 'failed'
      session: number
      code: 'unsupported_audio_format' | 'payload_too_large' | 'internal_error'
      message: string
    }

export interface WorkerInit {
  /** The module the boot script imports (source runs only; see pool.ts). */
  entry: string
  /** The PocketSphinx en-us model folder (`--stt-model-dir`). */
  modelDir: string
  /** The session start an earlier worker of this model calibrated to; absent, the worker calibrates itself. */
  calibration?: CmnState
}
