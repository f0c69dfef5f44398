import { countCharacters, STT_BYTES_PER_SAMPLE, VoxgateError, type RawOutputFormat } from '@voxgate/protocol'
import type { Principal } from '../auth/principal.ts'
import type { ServerContext } from '../context.ts'
import { ContextAccount } from '../sockets/context-account.ts'
import type { StreamLease } from '../streams/registry.ts'
import { checkTranscriptLength } from '../transports/prepare.ts'
import { CONTEXT_MAX_CHARS } from '../transports/websocket/context.ts'

export interface BridgeContextInit {
  /** The client's `context_id`. */
  id: string
  /** The upstream's voice id, as the token's `limits.voices` names it. */
  voiceId: string
  /** The audio the upstream returns, to count its duration. */
  format: RawOutputFormat
  ctx: ServerContext
  principal: Principal
  /** The context's stream slot. */
  lease: StreamLease
}

/**
 * One relayed WebSocket context, as voxgate accounts for it: its stream slot, the characters it
 * forwarded (reserved from the token's budget before they leave, in blocks as locally), and the
 * audio the upstream returned for it. The upstream speaks; this only counts and ends.
 */
export class BridgeContext {
  readonly id: string
  readonly voiceId: string
  readonly #account: ContextAccount
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

  constructor(init: BridgeContextInit) {
    this.id = init.id
    this.voiceId = init.voiceId
    this.#account = new ContextAccount(init)
    this.#bytesPerMs = (STT_BYTES_PER_SAMPLE[init.format.encoding] * init.format.sample_rate) / 1000
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
    const budget = this.#account.budget
    await budget.take(characters)
    if (this.#ended || budget !== this.#account.budget) {
      budget.giveBack(characters)
      return !this.#ended && (await this.charge(transcript))
    }
    this.#totalChars += characters
    this.#account.add({ characters })
    return true
  }

  /** Any upstream event for this context: what was sent has been answered (a stall after this is the client's). */
  answered(): void {
    this.#unanswered = false
  }

  /** An upstream `chunk` for this context: its audio counts as produced (raw PCM, so its size says how long). */
  heard(base64Audio: unknown): void {
    if (typeof base64Audio !== 'string' || this.#ended) return
    const bytes = Buffer.byteLength(base64Audio, 'base64')
    if (bytes > 0 && !this.#heard) {
      this.#heard = true
      this.#account.firstAudio()
    }
    this.#account.add({ audioMsProduced: bytes / this.#bytesPerMs })
  }

  /** A fresh token on the socket is charged from now on; the stream slot moves to it. */
  setPrincipal(principal: Principal, lease: StreamLease): void {
    this.#account.moveTo(principal, lease)
  }

  /**
   * Ends the context's accounting: the slot is freed and the figures settled. A context refused
   * before anything was forwarded or heard (`err` a refusal reason) is a refusal in the ledger, not a stream.
   */
  end(err?: VoxgateError): void {
    if (this.#ended) return
    this.#ended = true
    this.#account.end(err)
  }
}
