import { VoxgateError } from '@voxgate/protocol'
import type { UploadForm } from '../upload-form.ts'

/** PCM encodings the voice changer answers in, and their bytes per sample. */
export const PCM_WIDTHS: Readonly<Record<string, number>> = { pcm_f32le: 4, pcm_s16le: 2, pcm_mulaw: 1, pcm_alaw: 1 }

/** A voice-changer answer's format, as voxgate checked it: one it can measure. */
export type ChangerFormat =
  | { container: 'raw' | 'wav'; encoding: string; sampleRate: number }
  | { container: 'mp3'; sampleRate: number }

const SAMPLE_RATE = { min: 8000, max: 48000 }
const BIT_RATE = { min: 32_000, max: 320_000 }

const refuse = (field: string, why: string) =>
  new VoxgateError('unsupported_output_format', `output_format[${field}] ${why}`)

/**
 * The voice changer's `output_format[...]` fields, checked before anything is relayed: a format
 * whose audio voxgate cannot measure is refused (400 `unsupported_output_format`, naming the
 * field), since what it cannot measure it cannot charge. SSE carries raw PCM only.
 */
export function changerFormat(form: UploadForm, transport: 'bytes' | 'sse'): ChangerFormat {
  const field = (name: string) => form.single(`output_format[${name}]`)
  const container = field('container')
  const containers = transport === 'sse' ? ['raw'] : ['raw', 'wav', 'mp3']
  if (container === undefined || !containers.includes(container))
    throw refuse('container', `must be ${containers.join(', ')} on /voice-changer/${transport}.`)
  const sampleRate = whole(field('sample_rate'), SAMPLE_RATE, 'sample_rate', 'Hz')
  if (container === 'mp3') {
    const bitRate = field('bit_rate')
    if (bitRate !== undefined) whole(bitRate, BIT_RATE, 'bit_rate', 'bits per second')
    return { container, sampleRate }
  }
  const encoding = field('encoding')
  if (encoding === undefined || PCM_WIDTHS[encoding] === undefined)
    throw refuse('encoding', `must be one of ${Object.keys(PCM_WIDTHS).join(', ')}.`)
  return { container: container as 'raw' | 'wav', encoding, sampleRate }
}

/** A whole number written in digits only, within `range`. */
function whole(value: string | undefined, range: { min: number; max: number }, name: string, unit: string): number {
  const n = value !== undefined && /^\d{1,7}$/.test(value) ? Number(value) : Number.NaN
  if (!(n >= range.min && n <= range.max))
    throw refuse(name, `must be a whole number of ${unit} from ${range.min} to ${range.max}, in digits only.`)
  return n
}
