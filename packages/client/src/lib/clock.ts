/**
 * Time as the token source sees it. `now()` is a monotonic clock (never jumps when the wall clock is
 * corrected); `wallNow()` is the wall clock, used only for elapsed time as a second opinion (a laptop
 * that slept may not advance the monotonic clock), never compared with a server time.
 */
export interface Clock {
  /** Monotonic milliseconds. @default performance.now() */
  now(): number
  /** Wall-clock milliseconds since the epoch. @default Date.now() */
  wallNow(): number
  /** @default globalThis.setTimeout (unref'd in Node so a token source never keeps a process alive) */
  setTimeout(fn: () => void, ms: number): unknown
  /** @default globalThis.clearTimeout */
  clearTimeout(handle: unknown): void
  /** Uniform in [0, 1), for backoff jitter. @default Math.random */
  random(): number
}

export const systemClock: Clock = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
  setTimeout(fn, ms) {
    const handle = setTimeout(fn, ms) as unknown as { unref?: () => void }
    handle.unref?.()
    return handle
  },
  clearTimeout: (handle) => clearTimeout(handle as Parameters<typeof clearTimeout>[0]),
  random: () => Math.random(),
}

/** Resolves after `ms` on the given clock. */
export const sleep = (clock: Clock, ms: number): Promise<void> =>
  new Promise((resolve) => {
    clock.setTimeout(resolve, ms)
  })
