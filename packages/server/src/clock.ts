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

/** An epoch-ms time as the API and the CLI write it (RFC 3339, UTC), or null for "never". */
export const isoOrNull = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString())
