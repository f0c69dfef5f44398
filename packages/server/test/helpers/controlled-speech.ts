import type { SpeechService, SynthesisChunk, SynthesisRequest } from '../../src/tts/types.ts'
import { createDeterministicSpeech } from './inline-runner.ts'

/**
 * The deterministic engine behind a test-controlled door (the engine is the only part tests swap):
 * it counts syntheses in flight and chunks handed out, can hold every synthesis before its first
 * audio (`hold`) or after its first chunks (`holdAfter`), and can pace chunks (`chunkDelayMs`), so
 * a test can make a client leave, or look at what it has received, at exactly the moment it means to.
 */
export class ControlledSpeech implements SpeechService {
  /** Syntheses begun and not yet finished (their generator's `finally` has not run). */
  inFlight = 0
  /** Syntheses begun since creation. */
  begun = 0
  /** Chunks handed to the server since creation (the deterministic engine's: about one a word). */
  yielded = 0
  chunkDelayMs = 0
  #gate: { promise: Promise<void>; open: () => void; after: number } | undefined

  private constructor(private readonly inner: SpeechService) {}

  static async create(): Promise<ControlledSpeech> {
    return new ControlledSpeech(await createDeterministicSpeech())
  }

  get voices(): SpeechService['voices'] {
    return this.inner.voices
  }

  resolveModel(id: string): ReturnType<SpeechService['resolveModel']> {
    return this.inner.resolveModel(id)
  }

  /** Every synthesis from now on waits before its first audio until `release()`. */
  hold(): void {
    this.holdAfter(0)
  }

  /** Every synthesis from now on hands out its first `chunks` chunks, then waits until `release()`. */
  holdAfter(chunks: number): void {
    let open!: () => void
    const promise = new Promise<void>((resolve) => (open = resolve))
    this.#gate = { promise, open, after: chunks }
  }

  release(): void {
    this.#gate?.open()
    this.#gate = undefined
  }

  async *synthesize(request: SynthesisRequest, signal?: AbortSignal): AsyncGenerator<SynthesisChunk> {
    this.inFlight += 1
    this.begun += 1
    try {
      let sent = 0
      const gate = this.#gate
      if (gate?.after === 0) await abortable(gate.promise, signal)
      for await (const chunk of this.inner.synthesize(request, signal)) {
        if (this.chunkDelayMs > 0) await abortable(new Promise((r) => setTimeout(r, this.chunkDelayMs)), signal)
        if (gate && gate.after > 0 && sent === gate.after) await abortable(gate.promise, signal)
        sent += 1
        this.yielded += 1
        yield chunk
      }
    } finally {
      this.inFlight -= 1
    }
  }

  close(): Promise<void> {
    return this.inner.close()
  }
}

function abortable(p: Promise<unknown>, signal?: AbortSignal): Promise<void> {
  if (!signal) return p.then(() => undefined)
  signal.throwIfAborted()
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    p.then(() => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }, reject)
  })
}

/** Polls `check` until it holds; fails after `ms` (a liveness bound, not a performance figure). */
export async function eventually(check: () => boolean | Promise<boolean>, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}
