import type { Logger } from 'pino'
import { VoxgateError } from '@voxgate/protocol'
import type { Principal } from '../auth/principal.ts'
import type { Clock } from '../clock.ts'
import type { Charge, UsageMeter } from '../quotas/meter.ts'
import { isStoreOutage } from '../store/errors.ts'
import type { Store } from '../store/types.ts'
import { usageDelta, type StreamFigures } from '../usage/usage-delta.ts'

/**
 * Characters: tokens' budgets (`limits.characters`) and the quotas per end-user and API key, kept in
 * the store: a reservation is durable before any audio leaves, and it is atomic across every process
 * sharing the store, so a restart, a `kill -9` or a second instance never hands out characters already
 * spent. One store write per counter per reservation (a stream start, or a WebSocket block); refunds
 * settle at the end, with the stream's ledger row.
 */
export class CharacterBudgets {
  constructor(
    private readonly store: Store,
    private readonly meter: UsageMeter,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  /** Whether reservations must be exact (a budget or a quota caps them), rather than taken in blocks. */
  capped(principal: Principal): boolean {
    return (
      (principal.kind === 'token' && principal.limits?.characters !== undefined) || this.meter.quotaApplies(principal)
    )
  }

  /**
   * Reserves `characters` from the principal's token and quotas, or throws quota_exceeded without
   * reserving. Returns the counters charged, for the refund.
   */
  async reserve(principal: Principal, characters: number): Promise<Charge> {
    if (characters <= 0) return []
    const budget = principal.kind === 'token' ? principal.limits?.characters : undefined
    const token =
      principal.kind === 'token'
        ? {
            key: principal.jti,
            limit: budget,
            expiresAt: principal.expiresAtSeconds * 1000,
            refused: (used: number) => tokenExhausted(budget ?? 0, used),
          }
        : undefined
    return (await this.meter.reserve(principal, characters, token)).charge
  }

  /** Gives back characters never spoken to the counters that were charged for them. */
  refund(charge: Charge, characters: number): void {
    void this.meter.refund(charge, characters)
  }

  /**
   * Settles a finished stream: its figures go to the usage ledger and the characters it reserved and
   * never spoke go back to `charge`'s counters, in one store write (never one per chunk). A failure is
   * logged (an outage in the store's fault log, counted): the ledger then misses the stream and the
   * counters stay charged (the safe side).
   */
  settle(principal: Principal, figures: StreamFigures, charge: Charge, refundCharacters: number): void {
    if (!Object.values(figures).some((n) => n !== undefined && n > 0)) return this.refund(charge, refundCharacters)
    const refund =
      refundCharacters > 0 && charge.length > 0 ? { keys: charge, characters: refundCharacters, audioMs: 0 } : undefined
    this.store.settleUsage(usageDelta(principal, figures, this.clock.now()), refund).catch((err: unknown) => {
      if (!isStoreOutage(err)) this.logger.error({ err, key_id: principal.keyId }, 'usage settlement failed')
    })
  }

  used(jti: string): Promise<number> {
    return this.store.usedCharacters(jti)
  }
}

const tokenExhausted = (budget: number, used: number) =>
  new VoxgateError(
    'quota_exceeded',
    `This access token's budget of ${budget} characters would be exceeded (${used} used).`,
    { 'x-should-retry': 'false' },
  )
