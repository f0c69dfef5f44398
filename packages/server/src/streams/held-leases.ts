import type { Logger } from 'pino'

/** One held slot: the token it counts against and its lease id. */
export interface Lease {
  jti: string
  leaseId: string
}

/** Renewal period of held leases (a third of the TTL at most). */
const RENEW_EVERY_MS = 5000

/**
 * The slot leases this process holds, renewed on a timer through `renew` until released, wherever
 * the leases live (Redis or the store): a process that dies stops renewing, so its leases expire.
 */
export class HeldLeases {
  readonly #held = new Map<string, string>()
  readonly #timer: NodeJS.Timeout

  constructor(renew: (leases: Lease[]) => Promise<unknown>, ttlMs: number, logger: Logger) {
    this.#timer = setInterval(
      () => {
        if (this.#held.size === 0) return
        const leases = [...this.#held].map(([leaseId, jti]) => ({ jti, leaseId }))
        renew(leases).catch(() => logger.warn({ leases: leases.length }, 'stream slot renewal failed; retrying'))
      },
      Math.min(RENEW_EVERY_MS, ttlMs / 3),
    )
    this.#timer.unref()
  }

  add(lease: Lease): void {
    this.#held.set(lease.leaseId, lease.jti)
  }

  delete(leaseId: string): void {
    this.#held.delete(leaseId)
  }

  close(): void {
    clearInterval(this.#timer)
  }
}
