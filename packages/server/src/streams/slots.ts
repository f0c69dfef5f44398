import type { Logger } from 'pino'
import type { RedisConnection } from '../shared/redis.ts'
import { HeldLeases, type Lease } from './held-leases.ts'

/**
 * Where the concurrent-stream slots of tokens with `limits.concurrent_streams` are counted, for every
 * instance of a deployment: in Redis (`RedisSlots`), or in the store (`StoreSlots`).
 */
export interface SlotStore {
  /** Takes one of `limit` slots of token `jti` for `leaseId`; false when all are taken. */
  acquire(jti: string, limit: number, leaseId: string): Promise<boolean>
  release(jti: string, leaseId: string): void
  /** Slots of token `jti` held now. */
  count(jti: string): Promise<number>
  close(): void
}

/** A slot lives this long unless renewed: an instance killed with -9 frees its slots within it. */
export const SLOT_LEASE_TTL_MS = 15_000

/**
 * Re-asserts the leases this instance holds of the token (ARGV[6..], with a fresh expiry: Redis may
 * have lost them, to a FLUSHALL or a restart without persistence), drops expired leases, then adds
 * this one if fewer than the limit remain (one atomic step).
 */
const ACQUIRE = `
for i = 6, #ARGV do redis.call('ZADD', KEYS[1], ARGV[3], ARGV[i]) end
if #ARGV >= 6 then redis.call('PEXPIRE', KEYS[1], ARGV[5]) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1`

/**
 * Slots as leases in a Redis sorted set per token (member: lease id, score: expiry). Acquiring is one
 * Lua script, never a read-modify-write from Node. Held leases are renewed every 5 s (re-added if
 * Redis lost them, e.g. to a FLUSHALL or a restart without persistence), and an acquire re-adds this
 * instance's leases of the same token first: after Redis lost them, a token can exceed its limit only
 * on another instance, and only until this one's next renewal. A Redis that is unreachable makes
 * `acquire` fail closed (503 `limits_unavailable`), and what this instance holds keeps streaming.
 */
export class RedisSlots implements SlotStore {
  readonly #held: HeldLeases

  constructor(
    private readonly redis: RedisConnection,
    logger: Logger,
    private readonly ttlMs = SLOT_LEASE_TTL_MS,
  ) {
    this.#held = new HeldLeases((leases) => this.#renew(leases), ttlMs, logger)
  }

  async acquire(jti: string, limit: number, leaseId: string): Promise<boolean> {
    const now = Date.now()
    const got = await this.redis.call((c) =>
      c.eval(ACQUIRE, {
        keys: [this.redis.key('slots', jti)],
        arguments: [
          String(now),
          String(limit),
          String(now + this.ttlMs),
          leaseId,
          String(this.ttlMs * 2),
          ...this.#held.of(jti),
        ],
      }),
    )
    if (got === 1) this.#held.add({ jti, leaseId })
    return got === 1
  }

  release(jti: string, leaseId: string): void {
    this.#held.delete(leaseId)
    // If Redis is away the lease simply expires within its TTL.
    this.redis.call((c) => c.zRem(this.redis.key('slots', jti), leaseId)).catch(() => undefined)
  }

  async count(jti: string): Promise<number> {
    return this.redis.call((c) => c.zCount(this.redis.key('slots', jti), Date.now(), '+inf'))
  }

  /** Re-adds every held lease with a fresh expiry (so leases Redis lost come back). */
  #renew(leases: Lease[]): Promise<unknown> {
    const expiry = Date.now() + this.ttlMs
    return this.redis.call(async (c) => {
      const multi = c.multi()
      for (const { jti, leaseId } of leases) {
        multi.zAdd(this.redis.key('slots', jti), { score: expiry, value: leaseId })
        multi.pExpire(this.redis.key('slots', jti), this.ttlMs * 2)
      }
      return multi.exec()
    })
  }

  close(): void {
    this.#held.close()
  }
}
