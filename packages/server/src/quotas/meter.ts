import type { Logger } from 'pino'
import type { Principal } from '../auth/principal.ts'
import type { Clock } from '../clock.ts'
import { clientFacing, isStoreOutage } from '../store/errors.ts'
import type { Reservation, Store } from '../store/types.ts'
import type { QuotaBook, QuotaCharge, QuotaMeter } from './book.ts'
import { quotaExceeded } from './refusal.ts'
import { thresholdsReached, type ThresholdReached } from './thresholds.ts'

/** The usage counters one reservation charged: its token's (the jti) and its quotas' for the period. */
export type Charge = readonly string[]

/** A token's own budget for the reservation (its jti counter), if it is a token. */
export interface TokenCounter {
  key: string
  limit: number | undefined
  expiresAt: number
  /** The error for a refusal by the token's own budget (`used` in the meter's unit). */
  refused: (used: number) => Error
}

/** One counter a reservation charges: the token's own, or a quota's (`quota` set). */
interface Step {
  key: string
  limit: number | undefined
  expiresAt: number
  refused: (used: number) => Error
  quota?: QuotaCharge
}

/**
 * Reserves an amount from every counter a request is charged to, in order: the token's own budget,
 * then each quota that applies. Each step is one atomic, durable store reservation, so no counter is
 * ever taken past its cap, across instances; when a later counter refuses, the earlier ones are given
 * back at once. (A concurrent request may see that room as taken for those few milliseconds: the safe
 * side.) With `partial`, a counter with less room than asked grants what it has, and the amount
 * shrinks for the counters after it (and is given back on those before).
 */
export class UsageMeter {
  /**
   * Told of each quota threshold a granted request reached (the server enqueues a `quota.threshold`
   * webhook event); awaited, so the event is in the outbox before the request goes on.
   */
  onThreshold: ((reached: ThresholdReached) => Promise<void>) | undefined

  constructor(
    private readonly store: Store,
    private readonly quotas: QuotaBook,
    private readonly clock: Clock,
    private readonly meter: QuotaMeter,
    private readonly logger: Logger,
  ) {}

  /** Whether any quota caps this meter for the principal (then reservations must be exact, not in blocks). */
  quotaApplies(principal: Principal): boolean {
    return this.quotas.charges(principal, this.meter, 0).length > 0
  }

  /** Reserves `amount` (or, with `partial`, as much as every counter holds, at least 1); returns what and where. */
  async reserve(
    principal: Principal,
    amount: number,
    token: TokenCounter | undefined,
    partial = false,
  ): Promise<{ amount: number; charge: Charge }> {
    const now = this.clock.now()
    const steps: Step[] = [
      ...(token ? [{ key: token.key, limit: token.limit, expiresAt: token.expiresAt, refused: token.refused }] : []),
      ...this.quotas.charges(principal, this.meter, now).map((c) => ({
        key: c.key,
        limit: c.limit,
        expiresAt: c.expiresAt,
        refused: (used: number) => quotaExceeded(c, this.meter, used, now),
        quota: c,
      })),
    ]
    const charged: string[] = []
    /** Each quota counter's usage after its reservation, and the amount it was charged then. */
    const after: { charge: QuotaCharge; used: number; amount: number }[] = []
    let granted = amount
    try {
      for (const step of steps) {
        let r = await this.#reserve(step.key, granted, step.limit, step.expiresAt)
        if (!r.granted && partial && step.limit !== undefined && step.limit - r.used > 0) {
          const left = step.limit - r.used
          await this.refund(charged, granted - left)
          granted = left
          r = await this.#reserve(step.key, granted, step.limit, step.expiresAt)
        }
        if (!r.granted) throw step.refused(r.used)
        charged.push(step.key)
        if (step.quota) after.push({ charge: step.quota, used: r.used, amount: granted })
      }
    } catch (err) {
      await this.refund(charged, granted)
      throw clientFacing(err)
    }
    // Only a granted request reaches a threshold: a refused one gave back all it had reserved.
    if (this.onThreshold) await this.#announce(after, granted)
    return { amount: granted, charge: charged }
  }

  async #announce(after: readonly { charge: QuotaCharge; used: number; amount: number }[], granted: number) {
    for (const a of after) {
      // A later counter with less room shrank the amount: this counter got the difference back.
      const used = a.used - (a.amount - granted)
      for (const reached of thresholdsReached(a.charge, this.meter, used - granted, used)) {
        await this.onThreshold?.(reached).catch((err: unknown) => {
          if (!isStoreOutage(err)) this.logger.error({ err, quota_id: a.charge.quota.id }, 'quota alert failed')
        })
      }
    }
  }

  /** Gives `amount` back to each counter of `charge`. A refund that fails leaves them charged (the safe side). */
  async refund(charge: Charge, amount: number): Promise<void> {
    if (amount <= 0) return
    const give =
      this.meter === 'characters'
        ? (k: string) => this.store.refundCharacters(k, amount)
        : (k: string) => this.store.refundAudio(k, amount)
    await Promise.all(
      charge.map((k) =>
        give(k).catch((err: unknown) => {
          if (!isStoreOutage(err)) this.logger.error({ err, meter: this.meter }, 'usage refund failed')
        }),
      ),
    )
  }

  #reserve(key: string, amount: number, limit: number | undefined, expiresAt: number): Promise<Reservation> {
    return this.meter === 'characters'
      ? this.store.reserveCharacters(key, amount, limit, expiresAt)
      : this.store.reserveAudio(key, amount, limit, expiresAt)
  }
}
