import { VoxgateError } from '@voxgate/protocol'
import type { Principal } from '../auth/principal.ts'
import type { Charge } from '../quotas/meter.ts'
import type { CharacterBudgets } from './budgets.ts'
import type { CharacterSource } from './reservation.ts'
import type { StreamFigures } from '../usage/usage-delta.ts'

/** Characters a WebSocket context reserves at a time when its text arrives in small pieces. */
export const RESERVATION_BLOCK_CHARS = 1000

/**
 * Reservations straight against the token's budget, one store write per HTTP stream; what is given
 * back waits for `settle`, which writes it with the stream's ledger row.
 */
export class DirectSource implements CharacterSource {
  #refund = 0
  #settled = false
  #charge: Charge = []

  constructor(
    private readonly budgets: CharacterBudgets,
    private readonly principal: Principal,
  ) {}

  async take(characters: number): Promise<void> {
    this.#charge = await this.budgets.reserve(this.principal, characters)
  }

  giveBack(characters: number): void {
    if (this.#settled) this.budgets.refund(this.#charge, characters)
    else this.#refund += characters
  }

  /** One write: the stream's figures and its refund. Idempotent. */
  settle(figures: StreamFigures): void {
    if (this.#settled) return
    this.#settled = true
    this.budgets.settle(this.principal, figures, this.#charge, this.#refund)
  }
}

/**
 * A WebSocket context's characters: reserved in blocks, so a context fed a few words at a time writes
 * to the store once per block, not once per message; what is left of the block goes back when the
 * context ends. A token with a characters budget reserves exactly what each segment needs (one write
 * per sentence, never per message or audio chunk): a block held by one context must never make
 * another context of the same token refuse text the budget still has room for.
 */
export class BlockSource implements CharacterSource {
  #unspent = 0
  #closed = false
  /**
   * The counters of the latest reservation, where what is left goes back. (Only reservations for a
   * capped principal can span a day's end, and those are exact, so little is ever left to misplace.)
   */
  #charge: Charge = []

  constructor(
    private readonly budgets: CharacterBudgets,
    private readonly principal: Principal,
    private readonly blockChars = RESERVATION_BLOCK_CHARS,
  ) {}

  async take(characters: number): Promise<void> {
    if (this.#unspent >= characters) {
      this.#unspent -= characters
      return
    }
    const missing = characters - this.#unspent
    const block = this.budgets.capped(this.principal) ? missing : Math.max(missing, this.blockChars)
    let got = block
    try {
      this.#charge = await this.budgets.reserve(this.principal, block)
    } catch (err) {
      // Only a budget with less room than a block is retried, for exactly what is needed.
      if (block === missing || !(err instanceof VoxgateError && err.code === 'quota_exceeded')) throw err
      this.#charge = await this.budgets.reserve(this.principal, missing)
      got = missing
    }
    this.#unspent += got - characters
  }

  get closed(): boolean {
    return this.#closed
  }

  giveBack(characters: number): void {
    if (this.#closed) this.budgets.refund(this.#charge, characters)
    else this.#unspent += characters
  }

  /**
   * Ends the block: the rest goes back with the context's figures for the ledger, in one write; later
   * give-backs go straight to the budget. Idempotent.
   */
  close(figures: StreamFigures = {}): void {
    if (this.#closed) return
    this.#closed = true
    this.budgets.settle(this.principal, figures, this.#charge, this.#unspent)
    this.#unspent = 0
  }
}
