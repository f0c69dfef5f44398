import { countCharacters, STT_BYTES_PER_SAMPLE, VoxgateError, type RawOutputFormat } from '@voxgate/protocol'
import type { Principal } from '../auth/principal.ts'
import type { AccountingParts } from '../context.ts'
import { BlockSource } from '../streams/block-source.ts'
import { REFUSAL_REASONS } from '../streams/refusals.ts'
import type { StreamLease } from '../streams/registry.ts'
import { checkTranscriptLength } from '../transports/prepare.ts'
import { CONTEXT_MAX_CHARS } from '../transports/websocket/context.ts'

/**
 * One relayed WebSocket context, as voxgate accounts for it: its stream slot, the characters it
 * forwarded (reserved from the token's budget before they leave, in blocks as locally), and the
 * audio the upstream returned for it. The upstream speaks; this only counts and ends.
 */
export class BridgeContext {
  #budget: BlockSource
  #figures = { characters: 0, audioMsProduced: 0, streams: 1 }
  #totalChars = 0
  #ended = false
  #heard = false
  /** A message of this context has gone upstream: ending it early means cancelling it there. */
  forwarded = false
  /** Text went upstream that the upstream has not answered yet. */
  #unanswered = false
  /** The client ended the context (its last piece, or a cancel): the upstream owes its terminal event. */
  #closing = false
  readonly #bytesPerMs: number

  constructor(
    readonly id: string,
    readonly voiceId: string,
    format: RawOutputFormat,
    private readonly ctx: AccountingParts,
    private principal: Principal,
    private lease: StreamLease,
  ) {
    this.#budget = new BlockSource(ctx.budgets, principal)
    this.#bytesPerMs = (STT_BYTES_PER_SAMPLE[format.encoding] * format.sample_rate) / 1000
  }

  get ended(): boolean {
    return this.#ended
  }

  /** A message went upstream: text to speak, or the context's end, is output owed. */
  sent(text: string, last: boolean): void {
    if (text !== '') this.#unanswered = true
    if (last) this.#closing = true
  }

  /** Whether voxgate waits for the upstream's output for this context (the upstream idle limit runs). */
  get owed(): boolean {
    return !this.#ended && (this.#unanswered || this.#closing)
  }

  /**
   * Reserves a transcript's characters before it is forwarded: voxgate cannot know what the upstream
   * leaves unspoken, so what is forwarded is what is charged. False when the context ended meanwhile
   * (the reservation goes back and nothing may be forwarded).
   */
  async charge(transcript: string): Promise<boolean> {
    // Counted as a gateway counts: tag-shaped text voxgate does not know may be spoken upstream.
    checkTranscriptLength(transcript, 'known')
    const characters = countCharacters(transcript, 'known')
    if (this.#totalChars + characters > CONTEXT_MAX_CHARS) {
      throw new VoxgateError('transcript_too_long', `A context takes at most ${CONTEXT_MAX_CHARS} characters in all.`)
    }
    const budget = this.#budget
    await budget.take(characters)
    if (this.#ended || budget !== this.#budget) {
      budget.giveBack(characters)
      return !this.#ended && (await this.charge(transcript))
    }
    this.#totalChars += characters
    this.#figures.characters += characters
    return true
  }

  /** An upstream `chunk` for this context: its audio counts as produced (raw PCM, so its size says how long). */
  /** Any upstream event for this context: what was sent has been answered (a stall after this is the client's). */
  answered(): void {
    this.#unanswered = false
  }

  heard(base64Audio: unknown): void {
    if (typeof base64Audio !== 'string' || this.#ended) return
    const bytes = Buffer.byteLength(base64Audio, 'base64')
    if (bytes > 0 && !this.#heard) {
      this.#heard = true
      this.lease.firstAudio?.()
    }
    this.#figures.audioMsProduced += bytes / this.#bytesPerMs
  }

  /** A fresh token on the socket is charged from now on; the stream slot moves to it. */
  setPrincipal(principal: Principal, lease: StreamLease): void {
    this.lease.release()
    this.#settle()
    this.principal = principal
    this.lease = lease
    this.#budget = new BlockSource(this.ctx.budgets, principal)
  }

  /**
   * Ends the context's accounting: the slot is freed and the figures settled. A context refused
   * before anything was forwarded or heard (`err` a refusal reason) is a refusal in the ledger, not a stream.
   */
  end(err?: VoxgateError): void {
    if (this.#ended) return
    this.#ended = true
    if (err && this.#figures.characters === 0 && this.#figures.audioMsProduced === 0 && REFUSAL_REASONS.has(err.code)) {
      this.ctx.refusals.record(this.principal, err)
      this.#figures.streams = 0
    }
    this.lease.release()
    this.#settle()
  }

  #settle(): void {
    this.#budget.close(this.#figures)
    // A context is one stream in the ledger, however many tokens it went through.
    this.#figures = { characters: 0, audioMsProduced: 0, streams: 0 }
  }
}
