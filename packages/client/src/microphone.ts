import { AudioInputError } from './errors.ts'
import { AsyncQueue } from './lib/queue.ts'
import type { PcmSource } from './listen.ts'

/**
 * The AudioWorklet that captures the microphone: it posts 1024-sample Float32Array frames to the
 * page. Serve it from your own origin and pass `workletUrl` when your Content-Security-Policy does
 * not allow `blob:` scripts; otherwise `microphone()` loads it from a Blob URL itself.
 */
export const CAPTURE_WORKLET_SOURCE = `registerProcessor('voxgate-capture', class extends AudioWorkletProcessor {
  constructor() { super(); this.b = new Float32Array(1024); this.n = 0 }
  process(inputs) {
    const c = inputs[0] && inputs[0][0]
    if (c) for (let i = 0; i < c.length; i++) {
      this.b[this.n++] = c[i]
      if (this.n === this.b.length) { this.port.postMessage(this.b, [this.b.buffer]); this.b = new Float32Array(1024); this.n = 0 }
    }
    return true
  }
})
`

/** Options of {@link microphone}. */
export interface MicrophoneOptions {
  /** The context to capture in (its rate is the source's). @default a new AudioContext, closed on stop */
  context?: AudioContext
  /**
   * Where {@link CAPTURE_WORKLET_SOURCE} is served; `false` uses the ScriptProcessor fallback.
   * @default a Blob URL (falls back to ScriptProcessor when that is refused)
   */
  workletUrl?: string | URL | false
  /** Extra getUserMedia constraints. @default { channelCount: 1, echoCancellation: true, noiseSuppression: true } */
  constraints?: MediaTrackConstraints
}

/** A live microphone as a PCM source for `client.listen()`. */
export interface MicrophoneSource extends PcmSource {
  /** Which capture path is running. */
  readonly processor: 'audio-worklet' | 'script-processor'
  /** Releases the microphone (the browser's recording indicator goes off). */
  stop(): void
}

const loaded = new WeakMap<BaseAudioContext, Promise<void>>()

/**
 * Opens the microphone (getUserMedia) and captures it through an AudioWorklet, or a ScriptProcessor
 * where worklets are unavailable. Call it from a click so the AudioContext may start.
 * @example
 * const session = client.listen(await microphone())
 */
export async function microphone(options: MicrophoneOptions = {}): Promise<MicrophoneSource> {
  const media = (globalThis as { navigator?: Navigator }).navigator?.mediaDevices
  if (!media?.getUserMedia)
    throw new AudioInputError(
      'ERR_MICROPHONE',
      'No microphone API here: it needs a browser page served over HTTPS (or localhost).',
    )
  let stream: MediaStream
  try {
    stream = await media.getUserMedia({
      audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true, ...options.constraints },
    })
  } catch (cause) {
    throw new AudioInputError(
      'ERR_MICROPHONE',
      `The microphone could not be opened (${(cause as { name?: string }).name ?? 'error'}).`,
      cause,
    )
  }
  const ctx = options.context ?? new AudioContext()
  const queue = new AsyncQueue<Float32Array>(() => stop())
  const input = ctx.createMediaStreamSource(stream)
  const capture = await captureNode(ctx, options.workletUrl, (frame) => queue.push(frame))
  input.connect(capture.node)
  // Silent output: connected only so the graph pulls the node.
  capture.node.connect(ctx.destination)
  if (ctx.state === 'suspended') await ctx.resume().catch(() => undefined)
  let stopped = false
  const stop = (): void => {
    if (stopped) return
    stopped = true
    for (const track of stream.getTracks()) track.stop()
    input.disconnect()
    capture.node.disconnect()
    if (!options.context) ctx.close().catch(() => undefined)
    queue.end()
  }
  return { sampleRate: ctx.sampleRate, frames: queue, processor: capture.processor, stop }
}

async function captureNode(
  ctx: AudioContext,
  url: MicrophoneOptions['workletUrl'],
  push: (frame: Float32Array) => void,
) {
  if (url !== false && ctx.audioWorklet && typeof AudioWorkletNode === 'function') {
    try {
      await loadWorklet(ctx, url)
      const node = new AudioWorkletNode(ctx, 'voxgate-capture', {
        numberOfInputs: 1,
        numberOfOutputs: 1,
        outputChannelCount: [1],
      })
      node.port.onmessage = (e: MessageEvent<Float32Array>) => push(e.data)
      return { node: node as AudioNode, processor: 'audio-worklet' as const }
    } catch {
      // A CSP without blob: scripts, or no worklet support: the ScriptProcessor still works.
    }
  }
  const node = ctx.createScriptProcessor(4096, 1, 1)
  node.onaudioprocess = (e) => push(e.inputBuffer.getChannelData(0).slice())
  return { node: node as AudioNode, processor: 'script-processor' as const }
}

/** Adds the worklet module once per context (registering the same name twice fails). */
function loadWorklet(ctx: AudioContext, url: string | URL | undefined): Promise<void> {
  let p = loaded.get(ctx)
  if (!p) {
    const blob =
      url === undefined
        ? URL.createObjectURL(new Blob([CAPTURE_WORKLET_SOURCE], { type: 'text/javascript' }))
        : undefined
    p = ctx.audioWorklet.addModule(blob ?? String(url)).finally(() => blob && URL.revokeObjectURL(blob))
    p.catch(() => loaded.delete(ctx))
    loaded.set(ctx, p)
  }
  return p
}
