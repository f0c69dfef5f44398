import type { RawEncoding } from '@voxgate/protocol'
import type { SpeechChunk } from './types.ts'

/** The part of Web Audio's `BaseAudioContext` the player uses (a real `AudioContext` fits). */
export interface AudioContextLike {
  readonly currentTime: number
  readonly state: string
  readonly destination: unknown
  resume(): Promise<void>
  createBuffer(
    channels: number,
    length: number,
    sampleRate: number,
  ): { getChannelData(channel: number): Float32Array; readonly duration: number }
  createBufferSource(): {
    buffer: unknown
    // biome-ignore lint/suspicious/noExplicitAny: Web Audio's connect takes an AudioNode; `any` keeps a real node assignable
    connect(destination: any): unknown
    start(when?: number): void
    stop(when?: number): void
    // biome-ignore lint/suspicious/noExplicitAny: a DOM handler takes an Event; `any` keeps a real node assignable
    onended: ((ev: any) => void) | null
  }
}

/** Options of an {@link AudioPlayer}. */
export interface AudioPlayerOptions {
  /** The context to play into. @default a new AudioContext, created on the first chunk */
  context?: AudioContextLike
  /** Seconds between the first chunk's arrival and its playback, to absorb network jitter. @default 0.05 */
  startDelaySeconds?: number
}

type Source = ReturnType<AudioContextLike['createBufferSource']>

/**
 * Plays streamed PCM gaplessly: each chunk becomes an AudioBuffer scheduled to start exactly where
 * the previous one ends (`nextTime`), so network chunk boundaries are inaudible. Playback starts on
 * the first chunk. The counters tell tests (and meters) how much audio reached the player.
 * @example
 * const player = new AudioPlayer()
 * await player.play(client.speak(request, { transport: 'websocket' }))
 * console.log(player.chunksScheduled, player.samplesScheduled)
 */
export class AudioPlayer {
  /** Chunks handed to Web Audio so far. */
  chunksScheduled = 0
  /** Samples handed to Web Audio so far. */
  samplesScheduled = 0
  /** Seconds of audio scheduled so far. */
  secondsScheduled = 0
  #context: AudioContextLike | undefined
  #nextTime = 0
  readonly #sources = new Set<Source>()
  readonly #startDelay: number

  constructor(options: AudioPlayerOptions = {}) {
    this.#context = options.context
    this.#startDelay = options.startDelaySeconds ?? 0.05
  }

  /** Schedules one chunk right after the previous one. @example player.enqueue(chunk) */
  enqueue(chunk: Pick<SpeechChunk, 'audio' | 'encoding' | 'sampleRate'>): void {
    const samples = decodePcm(chunk.audio, chunk.encoding)
    if (samples.length === 0) return
    const ctx = this.#ensureContext()
    if (ctx.state === 'suspended') void ctx.resume().catch(() => undefined)
    const buffer = ctx.createBuffer(1, samples.length, chunk.sampleRate)
    buffer.getChannelData(0).set(samples)
    const source = ctx.createBufferSource()
    source.buffer = buffer
    source.connect(ctx.destination)
    // After an underrun (or at the start) begin a little ahead of now; otherwise butt-join.
    const startAt = this.#nextTime > ctx.currentTime ? this.#nextTime : ctx.currentTime + this.#startDelay
    source.onended = () => this.#sources.delete(source)
    source.start(startAt)
    this.#sources.add(source)
    const seconds = samples.length / chunk.sampleRate
    this.#nextTime = startAt + seconds
    this.chunksScheduled += 1
    this.samplesScheduled += samples.length
    this.secondsScheduled += seconds
  }

  /** Enqueues every chunk of a stream as it arrives; resolves when the stream ends. @example await player.play(stream) */
  async play(stream: AsyncIterable<Pick<SpeechChunk, 'audio' | 'encoding' | 'sampleRate'>>): Promise<void> {
    for await (const chunk of stream) this.enqueue(chunk)
  }

  /** Seconds of scheduled audio not yet played. @example if (player.bufferedSeconds < 0.2) showSpinner() */
  get bufferedSeconds(): number {
    return this.#context ? Math.max(0, this.#nextTime - this.#context.currentTime) : 0
  }

  /** Stops everything scheduled; the next chunk starts afresh. @example player.stop() */
  stop(): void {
    for (const s of this.#sources) {
      try {
        s.stop()
      } catch {
        // already stopped
      }
    }
    this.#sources.clear()
    this.#nextTime = 0
  }

  #ensureContext(): AudioContextLike {
    this.#context ??= new (globalThis as unknown as { AudioContext: new () => AudioContextLike }).AudioContext()
    return this.#context
  }
}

/**
 * PCM bytes (little-endian) to float samples in [-1, 1].
 * @example decodePcm(chunk.audio, 'pcm_s16le')
 */
export function decodePcm(bytes: Uint8Array, encoding: RawEncoding): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const size = encoding === 'pcm_f32le' ? 4 : encoding === 'pcm_s16le' ? 2 : 1
  const out = new Float32Array(Math.floor(bytes.byteLength / size))
  for (let i = 0; i < out.length; i++) {
    if (encoding === 'pcm_f32le') out[i] = view.getFloat32(i * 4, true)
    else if (encoding === 'pcm_s16le') out[i] = view.getInt16(i * 2, true) / 32768
    else out[i] = (encoding === 'pcm_mulaw' ? mulaw(view.getUint8(i)) : alaw(view.getUint8(i))) / 32768
  }
  return out
}

/** G.711 μ-law to a 16-bit sample. */
function mulaw(byte: number): number {
  const u = ~byte & 0xff
  const magnitude = ((((u & 0x0f) << 3) + 0x84) << ((u >> 4) & 7)) - 0x84
  return u & 0x80 ? -magnitude : magnitude
}

/** G.711 A-law to a 16-bit sample. */
function alaw(byte: number): number {
  const a = byte ^ 0x55
  const exponent = (a >> 4) & 7
  const mantissa = (a & 0x0f) << 4
  const magnitude = exponent === 0 ? mantissa + 8 : (mantissa + 0x108) << (exponent - 1)
  return a & 0x80 ? magnitude : -magnitude
}
