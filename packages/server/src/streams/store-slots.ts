import type { Logger } from 'pino'
import { clientFacing } from '../store/errors.ts'
import type { SharedCounters } from '../store/types.ts'
import { SLOT_LEASE_TTL_MS, type SlotStore } from './slots.ts'

/** Renewal period of the leases this process holds. */
const RENEW_EVERY_MS = 5000

/**
 * Slots as leases in the store, for deployments without Redis (several processes on one SQLite data
 * folder, or instances on PostgreSQL alone): the same lease rules as in Redis, one store write to
 * acquire, renewed every 5 s, freed within the TTL when a process dies.
 */
export class StoreSlots implements SlotStore {
  readonly #held = new Map<string, string>()
  readonly #timer: NodeJS.Timeout

  constructor(
    private readonly counters: SharedCounters,
    private readonly logger: Logger,
    private readonly ttlMs = SLOT_LEASE_TTL_MS,
  ) {
    this.#timer = setInterval(() => void this.#renew(), Math.min(RENEW_EVERY_MS, ttlMs / 3))
    this.#timer.unref()
  }

  async acquire(jti: string, limit: number, leaseId: string): Promise<boolean> {
    const ok = await this.counters.acquireSlot(jti, leaseId, limit, Date.now(), this.ttlMs).catch((err: unknown) => {
      throw clientFacing(err)
    })
    if (ok) this.#held.set(leaseId, jti)
    return ok
  }

  release(jti: string, leaseId: string): void {
    this.#held.delete(leaseId)
    this.counters.releaseSlot(jti, leaseId).catch(() => undefined) // or it expires within the TTL
  }

  count(jti: string): Promise<number> {
    return this.counters.countSlots(jti, Date.now()).catch((err: unknown) => {
      throw clientFacing(err)
    })
  }

  async #renew(): Promise<void> {
    if (this.#held.size === 0) return
    const leases = [...this.#held].map(([leaseId, jti]) => ({ jti, leaseId }))
    await this.counters.renewSlots(leases, Date.now(), this.ttlMs).catch(() => this.logger.warn({ leases: leases.length }, 'stream slot renewal failed; retrying'))
  }

  close(): void {
    clearInterval(this.#timer)
  }
}
