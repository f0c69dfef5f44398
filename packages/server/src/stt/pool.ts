import type { Worker } from 'node:worker_threads'
import { VoxgateError } from '@voxgate/protocol'
import type { FromWorker, ToWorker, WorkerInit } from './messages.ts'
import { type CmnState, INSTALL_COMMAND, missingPieces } from './pocketsphinx.ts'
import { startWorker } from '../workers.ts'
import { calibrationKey, readCalibration, writeCalibration } from './calibration-file.ts'

type Outgoing = ToWorker extends infer M ? (M extends { session: number } ? Omit<M, 'session'> : never) : never
type Incoming = Exclude<FromWorker, { type: 'ready' | 'boot_failed' }>

/**
 * Calibrations (calibration.ts) this process has, by calibrationKey: the first recogniser of a model
 * makes one (or it is read from the calibration file) and every later one, in any pool (several servers
 * may share a process), starts from it instead of decoding the calibration speech again (seconds of
 * CPU each). It is the same for every decoder of a model: the same synthesised speech, the same model.
 */
const calibrations = new Map<string, CmnState>()

interface Slot {
  worker: Worker
  user: Recognizer | undefined
}

/**
 * One stream's hold on a warm decoder. Everything the worker says about this use arrives at
 * `onMessage`; a worker that dies says `failed`. `release()` hands the decoder back (idempotent).
 */
export class Recognizer {
  onMessage: (msg: Incoming) => void = () => {}
  #released = false

  constructor(
    private readonly slot: Slot,
    readonly session: number,
    private readonly onRelease: () => void,
  ) {
    slot.user = this
  }

  send(msg: Outgoing): void {
    if (this.#released) return
    if ('bytes' in msg) {
      // A copy, transferred: the caller's bytes may be a view into a buffer shared with others (ws, Fastify).
      const bytes = new Uint8Array(msg.bytes)
      this.slot.worker.postMessage({ ...msg, bytes, session: this.session }, [bytes.buffer])
    } else this.slot.worker.postMessage({ ...msg, session: this.session })
  }

  /** @internal The pool routes this use's messages here. */
  deliver(msg: Incoming): void {
    if (!this.#released && msg.session === this.session) this.onMessage(msg)
  }

  release(): void {
    if (this.#released) return
    this.#released = true
    if (this.slot.user === this) this.slot.user = undefined
    this.onRelease()
  }
}

export interface RecognizerPoolOptions {
  /** Decoders (worker threads) alive at once, which is also the number of simultaneous STT streams. */
  maxStreams: number
  /** The PocketSphinx en-us model folder. */
  modelDir: string
  /** Where the calibration is kept between runs (calibration-file.ts); without it, only in memory. */
  calibrationFile?: string
}

/**
 * Recognition workers, started on first use and kept warm: a decoder costs ~96 MB and 0.25 s to load
 * (PROTOCOL-STT.md Part 2), so there are never more than `maxStreams`, and a stream beyond that is
 * refused (503 `server_busy`) rather than queued behind live audio.
 */
export class RecognizerPool {
  /** Why recognition cannot run on this machine, if it cannot. */
  readonly unavailable: string | undefined
  #idle: Slot[] = []
  #slots = new Set<Slot>()
  #inUse = 0
  #nextSession = 1
  #closed = false

  constructor(private readonly options: RecognizerPoolOptions) {
    this.unavailable = missingPieces(options.modelDir)
  }

  get inUse(): number {
    return this.#inUse
  }

  /** A decoder for one stream, or a coded refusal (503). */
  async acquire(): Promise<Recognizer> {
    if (this.unavailable) throw unavailableError(this.unavailable)
    if (this.#closed) throw new VoxgateError('connection_closing', 'The server is shutting down.')
    if (this.#inUse >= this.options.maxStreams) {
      throw new VoxgateError(
        'server_busy',
        `All ${this.options.maxStreams} speech recognisers are busy; try again shortly.`,
        { 'retry-after': '1' },
      )
    }
    this.#inUse++
    let slot: Slot
    try {
      slot = this.#idle.pop() ?? (await this.#spawn())
    } catch (err) {
      this.#inUse--
      throw err
    }
    const session = this.#nextSession++
    return new Recognizer(slot, session, () => {
      this.#inUse--
      if (this.#slots.has(slot) && !this.#closed) this.#idle.push(slot)
    })
  }

  async close(): Promise<void> {
    this.#closed = true
    const workers = [...this.#slots].map((s) => s.worker)
    this.#slots.clear()
    this.#idle = []
    await Promise.all(workers.map((w) => w.terminate()))
  }

  #spawn(): Promise<Slot> {
    const { modelDir } = this.options
    const start = this.#knownCalibration()
    const init: Omit<WorkerInit, 'entry'> = { modelDir, calibration: start?.state }
    const worker = startWorker(import.meta.url, init)
    const slot: Slot = { worker, user: undefined }
    return new Promise<Slot>((resolve, reject) => {
      worker.on('message', (msg: FromWorker) => {
        if (msg.type === 'ready') {
          if (start && !start.state) this.#keepCalibration(start.key, msg.calibration)
          this.#slots.add(slot)
          resolve(slot)
        } else if (msg.type === 'boot_failed') reject(unavailableError(msg.message))
        else slot.user?.deliver(msg)
      })
      worker.on('error', () => {}) // 'exit' follows and handles it
      worker.on('exit', () => {
        const known = this.#slots.delete(slot)
        this.#idle = this.#idle.filter((s) => s !== slot)
        reject(unavailableError('a recognition worker failed to start'))
        if (known && slot.user)
          slot.user.deliver({
            type: 'failed',
            session: slot.user.session,
            code: 'internal_error',
            message: 'The speech recogniser stopped unexpectedly.',
          })
      })
    })
  }

  /**
   * This model's calibration key, with the calibration already made for it (in this process, or kept
   * in the calibration file), if any; undefined when the model cannot be described (the worker will
   * then report what is wrong with it).
   */
  #knownCalibration(): { key: string; state: CmnState | undefined } | undefined {
    let key: string
    try {
      key = calibrationKey(this.options.modelDir)
    } catch {
      return undefined
    }
    const file = this.options.calibrationFile
    let state = calibrations.get(key)
    if (!state && file && (state = readCalibration(file, key))) calibrations.set(key, state)
    return { key, state }
  }

  #keepCalibration(key: string, state: CmnState): void {
    if (calibrations.has(key)) return
    calibrations.set(key, state)
    if (this.options.calibrationFile) writeCalibration(this.options.calibrationFile, key, state)
  }
}

function unavailableError(why: string): VoxgateError {
  return new VoxgateError(
    'stt_unavailable',
    `Speech recognition is not available on this server (${why}). Install it with: ${INSTALL_COMMAND}`,
  )
}
