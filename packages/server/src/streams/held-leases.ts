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
  /** The same leases by token, so an acquire can name what this process holds of that token. */
  readonly #byToken = new Map<string, Set<string>>()
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
    const ids = this.#byToken.get(lease.jti)
    if (ids) ids.add(lease.leaseId)
    else this.#byToken.set(lease.jti, new Set([lease.leaseId]))
  }

  delete(leaseId: string): void {
    const jti = this.#held.get(leaseId)
    this.#held.delete(leaseId)
    if (jti === undefined) return
    const ids = this.#byToken.get(jti)
    ids?.delete(leaseId)
    if (ids?.size === 0) this.#byToken.delete(jti)
  }

  /** Lease ids this process holds of token `jti`. */
  of(jti: string): string[] {
    return [...(this.#byToken.get(jti) ?? [])]
  }

  close(): void {
    clearInterval(this.#timer)
  }
}
