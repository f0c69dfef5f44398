import type { Worker } from 'node:worker_threads'
import { VoxgateError } from '@voxgate/protocol'
import type { RawPcm } from '../../stt/audio-file.ts'
import { startWorker } from '../../workers.ts'

/** What a decoding thread answers: the audio's duration, or the coded refusal of the file. */
export type DecodeAnswer =
  | { seconds: number }
  | { code: 'unsupported_audio_format' | 'payload_too_large'; message: string }

export interface DecodeRequest {
  bytes: Uint8Array
  /** Headerless PCM's encoding and rate, when the client described it. */
  raw: RawPcm | undefined
  /** Longer audio is refused (413) as soon as the decoder passes it. */
  maxSeconds: number
  /** The client left or the token was revoked: the thread is ended at once. */
  signal: AbortSignal
}

/**
 * Measures relayed uploads whose header does not give their duration exactly (MP3, FLAC, Ogg and
 * WebM Opus), by decoding them as local STT does. Each decode runs in a thread of its own, started
 * for it and ended after it, so the event loop never waits on a codec and nothing a file made
 * outlives its request; at most `maxDecodes` run at once (more: 503 `server_busy`).
 */
export class UploadDecoder {
  #running = 0

  constructor(private readonly maxDecodes: number) {}

  /** The audio's duration in seconds, or its coded refusal (400, 413). */
  async seconds(request: DecodeRequest): Promise<number> {
    if (this.#running >= this.maxDecodes)
      throw new VoxgateError('server_busy', `All ${this.maxDecodes} upload decoders are busy; try again shortly.`, {
        'retry-after': '1',
      })
    this.#running++
    try {
      return await decodeInThread(request)
    } finally {
      this.#running--
    }
  }
}

function decodeInThread({ bytes, raw, maxSeconds, signal }: DecodeRequest): Promise<number> {
  if (signal.aborted) return Promise.reject(signal.reason)
  const worker: Worker = startWorker(import.meta.url, { bytes, raw, maxSeconds })
  let onAbort = () => {}
  return new Promise<number>((resolve, reject) => {
    onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    const failed = () => reject(new VoxgateError('internal_error', 'The upload could not be measured.'))
    worker.once('message', (answer: DecodeAnswer) =>
      'seconds' in answer ? resolve(answer.seconds) : reject(new VoxgateError(answer.code, answer.message)),
    )
    // A thread that dies (out of memory, a codec crash) says nothing: the first of these settles it.
    worker.once('error', failed)
    worker.once('exit', failed)
  }).finally(() => {
    signal.removeEventListener('abort', onAbort)
    void worker.terminate()
  })
}
