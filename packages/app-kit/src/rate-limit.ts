/** A limit of `max` events per fixed window of `windowSeconds`. */
export interface RateLimit {
  /** Events allowed per window (at least 1). */
  max: number
  /** The window's length in seconds (at least 1). */
  windowSeconds: number
}

export interface FixedWindowLimiterOptions extends RateLimit {
  /** Keys tracked at most; past it, expired windows are dropped, then the oldest. @default 10000 */
  maxKeys?: number
  /** Milliseconds since the epoch. @default Date.now */
  now?: () => number
}

interface Window {
  startMs: number
  count: number
}

/** Throws the TypeError a nonsense limit deserves, when the app starts. */
export function checkRateLimit(limit: RateLimit, what: string): Readonly<RateLimit> {
  const ok =
    typeof limit === 'object' &&
    limit !== null &&
    Number.isInteger(limit.max) &&
    limit.max >= 1 &&
    Number.isInteger(limit.windowSeconds) &&
    limit.windowSeconds >= 1
  if (!ok) throw new TypeError(`app-kit: invalid option ${what}: { max, windowSeconds }, positive integers`)
  return Object.freeze({ max: limit.max, windowSeconds: limit.windowSeconds })
}

/**
 * Counts events per key in fixed windows: simple, O(1) per event, and its memory is bounded (expired
 * windows are pruned once per window, and at most `maxKeys` keys are kept). A fixed window lets a
 * burst of up to 2 × `max` straddle a boundary; for throttling guesses and mints that is fine.
 *
 * @example
 * ```ts
 * const failures = new FixedWindowLimiter({ max: 5, windowSeconds: 900 })
 * if (failures.retryAfterSeconds(email) > 0) return tooMany()
 * failures.hit(email)
 * ```
 */
export class FixedWindowLimiter {
  readonly max: number
  readonly windowMs: number
  readonly #maxKeys: number
  readonly #now: () => number
  readonly #windows = new Map<string, Window>()
  #prunedAtMs = -Infinity

  constructor(options: FixedWindowLimiterOptions) {
    const { max, windowSeconds } = checkRateLimit(options, 'limit')
    const maxKeys = options.maxKeys ?? 10_000
    if (!Number.isInteger(maxKeys) || maxKeys < 1) throw new TypeError('app-kit: invalid option maxKeys')
    this.max = max
    this.windowMs = windowSeconds * 1000
    this.#maxKeys = maxKeys
    this.#now = options.now ?? Date.now
  }

  /** Keys currently tracked (for tests and metrics). */
  get size(): number {
    return this.#windows.size
  }

  /** 0 when `key` may act now; otherwise whole seconds (≥ 1) until its window ends, for `Retry-After`. */
  retryAfterSeconds(key: string): number {
    const w = this.#live(key, this.#now())
    if (!w || w.count < this.max) return 0
    return Math.max(1, Math.ceil((w.startMs + this.windowMs - this.#now()) / 1000))
  }

  /** Counts one event for `key`. */
  hit(key: string): void {
    const now = this.#now()
    const w = this.#live(key, now)
    if (w) {
      w.count += 1
      return
    }
    this.#prune(now)
    this.#windows.set(key, { startMs: now, count: 1 })
  }

  /** Takes back one event of `key`'s current window (an attempt that turned out not to count). */
  refund(key: string): void {
    const w = this.#live(key, this.#now())
    if (w && w.count > 0) w.count -= 1
  }

  /** `retryAfterSeconds`, and when 0 also `hit`: one step, so concurrent requests cannot overshoot. */
  take(key: string): number {
    const wait = this.retryAfterSeconds(key)
    if (wait === 0) this.hit(key)
    return wait
  }

  #live(key: string, now: number): Window | undefined {
    const w = this.#windows.get(key)
    if (w && now - w.startMs < this.windowMs) return w
    if (w) this.#windows.delete(key)
    return undefined
  }

  #prune(now: number): void {
    if (now - this.#prunedAtMs >= this.windowMs || this.#windows.size >= this.#maxKeys) {
      this.#prunedAtMs = now
      for (const [key, w] of this.#windows) if (now - w.startMs >= this.windowMs) this.#windows.delete(key)
    }
    // Still full: forget the oldest windows to make room for one more (Map keeps insertion order).
    for (const key of this.#windows.keys()) {
      if (this.#windows.size < this.#maxKeys) break
      this.#windows.delete(key)
    }
  }
}

/** The longest wait any of `checks` imposes (0 when none does); `hit`s them all only when it is 0. */
export function takeAll(checks: ReadonlyArray<readonly [FixedWindowLimiter, string]>): number {
  const wait = Math.max(0, ...checks.map(([limiter, key]) => limiter.retryAfterSeconds(key)))
  if (wait === 0) for (const [limiter, key] of checks) limiter.hit(key)
  return wait
}
