import type { FastifyBaseLogger } from 'fastify'
import { VoxgateError } from '@voxgate/protocol'
import type { FfmpegAac } from '../context.ts'
import { formatBytes, type SpeechFormat } from './speech-formats.ts'
import { speechSse } from './speech-sse.ts'

export interface SpeechOutputOptions {
  format: SpeechFormat
  /** `stream_format: "sse"`: the format's bytes in `speech.audio.delta` events. */
  sse: boolean
  /** The input's characters, for the SSE `usage`. */
  characters: number
  ffmpeg: FfmpegAac | undefined
  /** The request's logger: a stream that fails after its first byte is otherwise seen by no one. */
  log: Pick<FastifyBaseLogger, 'warn'>
}

/**
 * What the client of `/v1/audio/speech` receives, local or relayed alike: the content type, and the
 * audio as made (by the engines or the upstream) turned into the asked-for format and stream shape.
 */
export function speechOutput(o: SpeechOutputOptions) {
  return {
    contentType: o.sse ? 'text/event-stream; charset=utf-8' : o.format.contentType,
    reshape: (audio: AsyncIterable<Buffer>): AsyncIterable<Buffer> => {
      const made = formatBytes(o.format, audio, o.ffmpeg)
      // Only where voxgate encodes: MP3, WAV and PCM pass straight through (no stage added on their path).
      const bytes = o.format.libav || o.format.ffmpeg ? logFailure(made, o.log) : made
      return o.sse ? speechSse(bytes, o.characters) : bytes
    },
  }
}

/**
 * Logs an internal failure of an encode (a bound passed, the encoder failing, or the audio it was
 * fed failing) with its code.
 * Once the status line is out the client sees only a body cut short; before it, the 500 is logged
 * as every unhandled error is, and this line says which stream it was.
 */
async function* logFailure(bytes: AsyncIterable<Buffer>, log: SpeechOutputOptions['log']): AsyncGenerator<Buffer> {
  try {
    yield* bytes
  } catch (err) {
    if (err instanceof VoxgateError && err.code === 'internal_error')
      log.warn({ error_code: err.code, reason: err.message }, 'speech stream failed')
    throw err
  }
}
