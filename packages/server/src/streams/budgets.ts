import type { Logger } from 'pino'
import { VoxgateError } from '@voxgate/protocol'
import type { Principal } from '../auth/principal.ts'
import { clientFacing } from '../store/errors.ts'
import type { Store } from '../store/types.ts'
import { usageDelta, type StreamFigures } from './usage-delta.ts'

/**
 * Tokens' characters budgets (`limits.characters`) and usage, kept in the store: a reservation is
 * durable before any audio leaves, and it is atomic across every process sharing the store, so a
 * restart, a `kill -9` or a second instance never hands a token characters it has already spent.
 * One store write per reservation (a stream start, or a WebSocket block); refunds settle at the end.
 */
export class CharacterBudgets {
  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
  ) {}

  /** Reserves `characters` for the principal's token, or throws quota_exceeded without reserving. */
  async reserve(principal: Principal, characters: number): Promise<void> {
    if (principal.kind !== 'token' || characters <= 0) return
    const budget = principal.limits?.characters
    const { granted, used } = await this.store.reserveCharacters(principal.jti, characters, budget, principal.expiresAtSeconds * 1000).catch((err: unknown) => {
      throw clientFacing(err)
    })
    if (!granted) {
      throw new VoxgateError('quota_exceeded', `This access token's budget of ${budget} characters would be exceeded (${used} used).`, { 'x-should-retry': 'false' })
    }
  }

  /**
   * Gives back characters never spoken. A refund that fails leaves the token charged for them: the
   * safe side (a budget is never exceeded), logged for the operator.
   */
  refund(principal: Principal, characters: number): void {
    if (principal.kind !== 'token' || characters <= 0) return
    this.store.refundCharacters(principal.jti, characters).catch((err: unknown) => this.logger.error({ err, jti: principal.jti }, 'characters refund failed'))
  }

  /**
   * Settles a finished stream: its figures go to the usage ledger and the characters it reserved and
   * never spoke go back, in one store write (never one per chunk). A failure is logged: the ledger
   * then misses the stream and the token stays charged (the safe side).
   */
  settle(principal: Principal, figures: StreamFigures, refundCharacters: number): void {
    if (!Object.values(figures).some((n) => n !== undefined && n > 0)) return this.refund(principal, refundCharacters)
    const refund = principal.kind === 'token' && refundCharacters > 0 ? { jti: principal.jti, characters: refundCharacters, audioMs: 0 } : undefined
    this.store.settleUsage(usageDelta(principal, figures), refund).catch((err: unknown) => this.logger.error({ err, key_id: principal.keyId }, 'usage settlement failed'))
  }

  used(jti: string): Promise<number> {
    return this.store.usedCharacters(jti)
  }
}
