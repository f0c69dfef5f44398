import { randomFillSync, randomUUID } from 'node:crypto'

/**
 * Random bytes are drawn from the CSPRNG a pool at a time, as `randomUUID` does: one `getrandom`
 * call per 4 KiB instead of one per id (a system call per mint cost as much as the mint's signature on
 * this project's machines). Each byte is handed out once.
 */
const POOL_BYTES = 4096
const pool = Buffer.alloc(POOL_BYTES)
let used = POOL_BYTES

function randomBytesFromPool(n: number): Buffer {
  if (n > POOL_BYTES) return randomFillSync(Buffer.alloc(n))
  if (used + n > POOL_BYTES) {
    randomFillSync(pool)
    used = 0
  }
  used += n
  return pool.subarray(used - n, used)
}

/** Crockford-free, URL-safe random ids; `prefix` says what the id names. */
export function randomId(prefix: string, bytes = 12): string {
  return `${prefix}_${randomBytesFromPool(bytes).toString('base64url')}`
}

export const requestId = (): string => randomUUID()
