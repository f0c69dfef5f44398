import type { Logger } from 'pino'
import { clientFacing } from '../store/errors.ts'
import type { SharedCounters } from '../store/types.ts'
import { HeldLeases } from './held-leases.ts'
import { SLOT_LEASE_TTL_MS, type SlotStore } from './slots.ts'

/**
 * Slots as leases in the store, for deployments without Redis (several processes on one SQLite data
 * folder, or instances on PostgreSQL alone): the same lease rules as in Redis, one store write to
 * acquire, renewed every 5 s, freed within the TTL when a process dies.
 */
export class StoreSlots implements SlotStore {
  readonly #held: HeldLeases

  constructor(
    private readonly counters: SharedCounters,
    logger: Logger,
    private readonly ttlMs = SLOT_LEASE_TTL_MS,
  ) {
    this.#held = new HeldLeases((leases) => counters.renewSlots(leases, Date.now(), ttlMs), ttlMs, logger)
  }

  async acquire(jti: string, limit: number, leaseId: string): Promise<boolean> {
    const ok = await this.counters.acquireSlot(jti, leaseId, limit, Date.now(), this.ttlMs).catch((err: unknown) => {
      throw clientFacing(err)
    })
    if (ok) this.#held.add({ jti, leaseId })
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

  close(): void {
    this.#held.close()
  }
}
