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
}

/**
 * What the client of `/v1/audio/speech` receives, local or relayed alike: the content type, and the
 * audio as made (by the engines or the upstream) turned into the asked-for format and stream shape.
 */
export function speechOutput(o: SpeechOutputOptions) {
  return {
    contentType: o.sse ? 'text/event-stream; charset=utf-8' : o.format.contentType,
    reshape: (audio: AsyncIterable<Buffer>): AsyncIterable<Buffer> => {
      const bytes = formatBytes(o.format, audio, o.ffmpeg)
      return o.sse ? speechSse(bytes, o.characters) : bytes
    },
  }
}
