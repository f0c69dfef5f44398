import { countCharacters, stripMarkup, type MarkupRule } from '@voxgate/protocol'
import type { SynthesisProgress } from '../tts/types.ts'

/** Where a reservation takes its characters from: the token's budget, directly or through a block. */
export interface CharacterSource {
  /** Reserves `characters`, or throws quota_exceeded without reserving. */
  take(characters: number): Promise<void>
  /** Gives back characters taken and never spoken. */
  giveBack(characters: number): void
}

/**
 * The characters of one piece of text (an HTTP request's transcript, a WebSocket segment), reserved
 * from the token's budget before synthesis starts. Every transport charges through this one path:
 * the whole text is reserved up front (so a request that would cross the budget is refused before
 * any audio), and when it ends, the text after the last sentence whose synthesis started is refunded.
 * So a stream that runs to its end is charged its whole text, and one cut short the text up to the
 * end of its last started sentence: the same figure whatever the transport.
 */
export class CharacterReservation implements SynthesisProgress {
  readonly reserved: number
  /** Where each planned sentence ends in the text (sentences are trimmed substrings, in order). */
  #ends: number[] = []
  #started = 0
  #charged: number | undefined
  /** The text as synthesis sees it (markup removed), where the planned sentences are found. */
  readonly #spoken: string

  private constructor(
    private readonly source: CharacterSource,
    text: string,
    markup: MarkupRule,
  ) {
    this.#spoken = stripMarkup(text)
    this.reserved = countCharacters(text, markup)
  }

  /**
   * Reserves the characters of `text` (markup as `markup` reads it: `known` for a relayed text, whose
   * upstream may speak tags voxgate's engines drop); throws quota_exceeded (reserving nothing) past the budget.
   */
  static async open(source: CharacterSource, text: string, markup: MarkupRule = 'any'): Promise<CharacterReservation> {
    const reservation = new CharacterReservation(source, text, markup)
    await source.take(reservation.reserved)
    return reservation
  }

  planned(sentences: readonly string[]): void {
    let at = 0
    this.#ends = sentences.map((s) => {
      const found = this.#spoken.indexOf(s, at)
      at = found < 0 ? at : found + s.length
      return at
    })
  }

  started(index: number): void {
    this.#started = Math.max(this.#started, index + 1)
  }

  /**
   * Ends the reservation: keeps what was spoken and refunds the rest (all of the text when no
   * sentence started). Idempotent. Returns the characters charged.
   */
  settle(): number {
    if (this.#charged !== undefined) return this.#charged
    const refund = this.#refundable()
    this.source.giveBack(refund)
    this.#charged = this.reserved - refund
    return this.#charged
  }

  #refundable(): number {
    if (this.#started === 0 || this.#ends.length === 0) return this.reserved
    if (this.#started >= this.#ends.length) return 0
    const spoken = countCharacters(this.#spoken.slice(0, this.#ends[this.#started - 1]))
    return Math.max(0, this.reserved - spoken)
  }
}
