import type { VoxgateError } from '@voxgate/protocol'
import type { Principal } from '../auth/principal.ts'
import type { ServerContext } from '../context.ts'
import { BlockSource } from '../streams/block-source.ts'
import { REFUSAL_REASONS } from '../streams/refusals.ts'
import type { StreamLease } from '../streams/registry.ts'

export interface ContextAccountInit {
  ctx: Pick<ServerContext, 'budgets' | 'refusals'>
  /** The credential charged (a refresh may move the account to a fresh one). */
  principal: Principal
  /** The context's stream slot. */
  lease: StreamLease
  /** A gateway fallback's context: every character it speaks is counted as a fallback's. */
  fallback?: boolean
}

/**
 * What one TTS socket context owes, spoken here or relayed: its stream slot, its characters
 * reserved from its token's budget in blocks, and what it did under each token, settled with the
 * block. A context is one stream in the ledger however many tokens it goes through; one refused
 * before it did anything is a refusal instead.
 */
export class ContextAccount {
  readonly #ctx: ContextAccountInit['ctx']
  readonly #fallback: boolean
  #principal: Principal
  #lease: StreamLease
  #budget: BlockSource
  #figures = { characters: 0, audioMsProduced: 0, streams: 1 }
  #ended = false

  constructor(init: ContextAccountInit) {
    this.#ctx = init.ctx
    this.#fallback = init.fallback === true
    this.#principal = init.principal
    this.#lease = init.lease
    this.#budget = new BlockSource(init.ctx.budgets, init.principal)
  }

  /** Where the context's characters are reserved from: it changes with the token. */
  get budget(): BlockSource {
    return this.#budget
  }

  /** The first audio of the stream (the time-to-first-audio metric). */
  firstAudio(): void {
    this.#lease.firstAudio?.()
  }

  /** Characters spoken (or forwarded) and audio produced, added to the current token's figures. */
  add(figures: { characters?: number; audioMsProduced?: number }): void {
    this.#figures.characters += figures.characters ?? 0
    this.#figures.audioMsProduced += figures.audioMsProduced ?? 0
  }

  /** A fresh token on the socket is charged from now on; the stream slot moves to it. */
  moveTo(principal: Principal, lease: StreamLease): void {
    this.#lease.release()
    this.settle()
    this.#principal = principal
    this.#lease = lease
    this.#budget = new BlockSource(this.#ctx.budgets, principal)
  }

  /**
   * The context ended (with `err` if it failed): the slot is freed and the figures settled. Ended
   * by a refusal reason before anything was spoken or heard, it is a refusal in the ledger, not a
   * stream. Idempotent.
   */
  end(err?: VoxgateError): void {
    if (this.#ended) return
    this.#ended = true
    const idle = this.#figures.characters === 0 && this.#figures.audioMsProduced === 0
    if (err && idle && REFUSAL_REASONS.has(err.code)) {
      this.#ctx.refusals.record(this.#principal, err)
      this.#figures.streams = 0
    }
    this.#lease.release()
    this.settle()
  }

  /**
   * The block goes back with what the context did under its token, in one write; what comes after
   * (a segment cut short by the end settles after the block did) is written on its own.
   */
  settle(): void {
    const figures = this.#fallback ? { ...this.#figures, charactersFallback: this.#figures.characters } : this.#figures
    if (this.#budget.closed) this.#ctx.budgets.settle(this.#principal, figures, [], 0)
    else this.#budget.close(figures)
    // A context is one stream in the ledger, however many tokens it went through.
    this.#figures = { characters: 0, audioMsProduced: 0, streams: 0 }
  }
}
