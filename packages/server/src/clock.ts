/**
 * Time as the server sees it. Everything that compares against expiry takes a Clock so tests can
 * move time instead of sleeping.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number
}

export const systemClock: Clock = { now: () => Date.now() }

export const nowSeconds = (clock: Clock): number => Math.floor(clock.now() / 1000)
