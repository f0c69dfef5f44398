import {
  countCharacters,
  initialMarkupState,
  markupPrefix,
  parseMarkup,
  unfinishedTagStart,
  VoxgateError,
  type MarkupState,
  type WsGenerationRequest,
} from '@voxgate/protocol'
import type { Principal } from '../../auth/principal.ts'
import type { ServerContext } from '../../context.ts'
import type { StreamLease } from '../../streams/registry.ts'
import { ContextAccount } from '../../sockets/context-account.ts'
import { CharacterReservation } from '../../streams/reservation.ts'
import { takeCompleteSentences } from '../../tts/index.ts'
import type { SynthesisRequest } from '../../tts/types.ts'
import { chunkEvent, doneEvent, phonemeTimestampsEvent, timestampsEvent } from '../events.ts'
import { checkTranscriptLength } from '../prepare.ts'
import type { EventSink } from './sink.ts'

/** Cartesia's default wait for more text before speaking an incomplete sentence (SDK4 docs). */
const DEFAULT_MAX_BUFFER_DELAY_MS = 3000
/** All the text one streamed-input context may receive. */
export const CONTEXT_MAX_CHARS = 100_000
/** Segments (sentences, flushes) waiting to be spoken in one context; empty flushes count too. */
export const MAX_QUEUED_SEGMENTS = 256

interface Segment {
  text: string
  flushId: number
  /** Acknowledge the flush with `flush_done` once this segment's audio is out. */
  acknowledgeFlush: boolean
}

export interface TtsContextInit {
  /** The client's `context_id`. */
  id: string
  ctx: ServerContext
  /** The credential charged for the context (a refresh may move it to a fresh one). */
  principal: Principal
  /** What to speak with: voice, language, format, speed, phoneme timestamps. */
  speech: Omit<SynthesisRequest, 'text'>
  /** Word timestamps were asked for (`add_timestamps`). */
  timestamps: boolean
  /** How long an incomplete sentence waits for more text; Cartesia's default when absent. */
  maxBufferDelayMs: number | undefined
  /** The context's stream slot. */
  lease: StreamLease
  sink: EventSink
  /** Told once, when the context has sent its terminal event; `failed` when that was an `error`. */
  onFinished(id: string, failed: boolean): void
}

/**
 * One WebSocket context: text arrives in pieces (`continue: true`), is cut at sentence boundaries,
 * on `flush`, at the end of input, or after `max_buffer_delay_ms`, and is spoken segment by segment
 * in order. Ends with exactly one `done` or `error` (sent by `fail`).
 *
 * Sonic-3 markup works across pieces: a tag cut by the end of a piece (`Hi <brea`) waits for the
 * next one, and the markup in force at the end of a segment (`<speed>`, `<volume>`, an open
 * `<spell>`) is written at the start of the next, so segments are spoken as one text would be.
 */
export class TtsContext {
  #pending = ''
  #queue: Segment[] = []
  #flushId = 1
  #inputEnded = false
  #running = false
  #finished = false
  #totalChars = 0
  #timeOffset = 0
  #bufferTimer: NodeJS.Timeout | undefined
  /** The markup in force at the end of the text queued so far. */
  #markup: MarkupState = initialMarkupState()
  readonly #abort = new AbortController()
  /** The context's slot, characters and figures, under whichever token it runs. */
  readonly #account: ContextAccount

  readonly id: string
  private readonly ctx: ServerContext
  private readonly speech: Omit<SynthesisRequest, 'text'>
  private readonly timestamps: boolean
  private readonly maxBufferDelayMs: number | undefined
  private readonly sink: EventSink
  private readonly onFinished: TtsContextInit['onFinished']

  constructor(init: TtsContextInit) {
    this.id = init.id
    this.ctx = init.ctx
    this.speech = init.speech
    this.timestamps = init.timestamps
    this.maxBufferDelayMs = init.maxBufferDelayMs
    this.sink = init.sink
    this.onFinished = init.onFinished
    // A gateway fallback's socket (its events labelled so): every character it speaks is a fallback's.
    const fallback = init.sink.label.fallback !== undefined
    this.#account = new ContextAccount({ ctx: init.ctx, principal: init.principal, lease: init.lease, fallback })
  }

  get finished(): boolean {
    return this.#finished
  }

  get voiceId(): string {
    return this.speech.voiceId
  }

  /** Speaking, or with text queued to speak (waiting for more input is not busy). */
  get busy(): boolean {
    return !this.#finished && (this.#running || this.#queue.length > 0 || this.#bufferTimer !== undefined)
  }

  /** Adds one generation request's input to the context. */
  input(msg: WsGenerationRequest): void {
    checkTranscriptLength(msg.transcript)
    this.#totalChars += countCharacters(msg.transcript)
    if (this.#totalChars > CONTEXT_MAX_CHARS) {
      throw new VoxgateError('transcript_too_long', `A context takes at most ${CONTEXT_MAX_CHARS} characters in all.`)
    }
    this.#pending += msg.transcript
    if (msg.continue !== true) {
      this.#inputEnded = true
      this.#cut(false)
    } else if (msg.flush === true) {
      this.#cut(true, true)
    } else {
      const { ready, rest } = takeCompleteSentences(this.#pending)
      if (ready.length > 0) this.#enqueue(ready, false)
      this.#pending = rest
      this.#armBufferTimer()
    }
    void this.#run()
  }

  /** Queues the pending text; `holdTag` keeps back a tag still being written (more input follows). */
  #cut(acknowledgeFlush: boolean, holdTag = false): void {
    clearTimeout(this.#bufferTimer)
    this.#bufferTimer = undefined
    const held = holdTag ? unfinishedTagStart(this.#pending) : -1
    const text = held >= 0 ? this.#pending.slice(0, held) : this.#pending
    this.#pending = held >= 0 ? this.#pending.slice(held) : ''
    if (text.trim().length > 0 || acknowledgeFlush) this.#enqueue(text, acknowledgeFlush)
    if (acknowledgeFlush) this.#flushId += 1
  }

  #enqueue(text: string, acknowledgeFlush: boolean): void {
    if (this.#queue.length >= MAX_QUEUED_SEGMENTS) {
      throw new VoxgateError(
        'rate_limited',
        `A context holds at most ${MAX_QUEUED_SEGMENTS} segments waiting to be spoken.`,
      )
    }
    const withMarkup = markupPrefix(this.#markup) + text
    this.#markup = parseMarkup(withMarkup).state
    this.#queue.push({ text: withMarkup, flushId: this.#flushId, acknowledgeFlush })
  }

  /** An incomplete sentence is spoken anyway once it has waited `max_buffer_delay_ms`. */
  #armBufferTimer(): void {
    if (this.#pending.trim().length === 0 || this.#bufferTimer) return
    const delay = this.maxBufferDelayMs ?? DEFAULT_MAX_BUFFER_DELAY_MS
    this.#bufferTimer = setTimeout(() => {
      this.#bufferTimer = undefined
      try {
        this.#cut(false, true)
      } catch (err) {
        // Not inside a message handler: a throw here would be uncaught, so end the context instead.
        return this.fail(err instanceof VoxgateError ? err : new VoxgateError('internal_error', 'The context failed.'))
      }
      void this.#run()
    }, delay)
  }

  async #run(): Promise<void> {
    if (this.#running || this.#finished) return
    this.#running = true
    try {
      for (let seg = this.#queue.shift(); seg; seg = this.#queue.shift()) await this.#speak(seg)
      if (this.#inputEnded && this.#queue.length === 0 && !this.#finished) this.#finish(doneEvent(this.id))
    } catch (err) {
      this.fail(err instanceof VoxgateError ? err : new VoxgateError('internal_error', 'Speech synthesis failed.'))
    } finally {
      this.#running = false
    }
    if (this.#queue.length > 0 && !this.#finished) void this.#run()
  }

  async #speak(seg: Segment): Promise<void> {
    if (seg.text.trim().length > 0) {
      // The same path as bytes and SSE: reserve the segment, refund the sentences never started.
      const reservation = await CharacterReservation.open(this.#account.budget, seg.text)
      if (this.#finished) {
        this.#account.add({ characters: reservation.settle() })
        this.#account.settle()
        return
      }
      const request = {
        ...this.speech,
        text: seg.text,
        timestamps: this.timestamps,
        timeOffsetSeconds: this.#timeOffset,
        progress: reservation,
      }
      try {
        let started = performance.now()
        for await (const chunk of this.ctx.speech.synthesize(request, this.#abort.signal)) {
          if (this.#finished) return
          if (chunk.audio.byteLength > 0) this.#account.firstAudio()
          if (chunk.audio.byteLength > 0)
            await this.sink.send(chunkEvent(chunk.audio, performance.now() - started, this.id, seg.flushId))
          if (chunk.words && this.timestamps) await this.sink.send(timestampsEvent(chunk.words, this.id, seg.flushId))
          if (chunk.phonemes && this.speech.phonemeTimestamps)
            await this.sink.send(phonemeTimestampsEvent(chunk.phonemes, this.id, seg.flushId))
          this.#timeOffset += chunk.durationSeconds
          this.#account.add({ audioMsProduced: chunk.durationSeconds * 1000 })
          started = performance.now()
        }
      } finally {
        this.#account.add({ characters: reservation.settle() })
        // A segment cut short by the context's end settles after the block did: its share follows.
        if (this.#finished) this.#account.settle()
      }
    }
    if (seg.acknowledgeFlush && !this.#finished) {
      await this.sink.send({
        type: 'flush_done',
        done: false,
        flush_done: true,
        flush_id: seg.flushId,
        status_code: 206,
        context_id: this.id,
      })
    }
  }

  /**
   * A fresh token on the socket becomes the credential charged from now on, and the context's
   * stream slot moves to it (the old token's slot is freed).
   */
  setPrincipal(principal: Principal, lease: StreamLease): void {
    this.#account.moveTo(principal, lease)
  }

  /** Ends the context with an error event (or `done` when cancelled); idempotent. */
  fail(err: VoxgateError): void {
    // A context refused before it spoke a word (its budget, say) is a refusal in the ledger, not a stream.
    if (!this.#finished) this.#finish(this.sink.errorEvent(err, this.id), err)
  }

  cancel(): void {
    if (!this.#finished) this.#finish(doneEvent(this.id))
  }

  #finish(event: Parameters<EventSink['send']>[0], err?: VoxgateError): void {
    this.#finished = true
    clearTimeout(this.#bufferTimer)
    this.#abort.abort()
    this.#account.end(err)
    void this.sink.send(event)
    this.onFinished(this.id, event.type === 'error')
  }
}
