import { STT_SAMPLE_RATE_MAX, STT_SAMPLE_RATE_MIN, VoxgateError } from '@voxgate/protocol'

/**
 * What an uploaded file may declare, whatever its container: the sample rates a stream may use
 * (8,000–48,000 Hz) and at most two channels. A header outside them is refused before anything is
 * decoded, so no declared figure sizes the server's memory.
 */
export const MAX_CHANNELS = 2

export const unsupportedAudio = (what: string): VoxgateError =>
  new VoxgateError(
    'unsupported_audio_format',
    `${what} Send WAV, Ogg or WebM Opus, MP3, FLAC, or raw PCM with ?encoding=&sample_rate=.`,
  )

export const audioTooLong = (maxSeconds: number): VoxgateError =>
  new VoxgateError('payload_too_large', `The audio is longer than ${maxSeconds} seconds; split it.`)

/** Refuses a declared sample rate or channel count the server does not accept (400 `unsupported_audio_format`). */
export function assertAcceptedFormat(container: string, format: { sampleRate: number; channels: number }): void {
  const { sampleRate, channels } = format
  if (!Number.isInteger(sampleRate) || sampleRate < STT_SAMPLE_RATE_MIN || sampleRate > STT_SAMPLE_RATE_MAX)
    throw unsupportedAudio(
      `The ${container} file declares a sample rate of ${sampleRate} Hz; accepted: ${STT_SAMPLE_RATE_MIN}–${STT_SAMPLE_RATE_MAX} Hz.`,
    )
  if (!Number.isInteger(channels) || channels < 1 || channels > MAX_CHANNELS)
    throw unsupportedAudio(`The ${container} file declares ${channels} channels; accepted: 1 or ${MAX_CHANNELS}.`)
}
