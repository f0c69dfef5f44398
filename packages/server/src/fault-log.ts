import type { Logger } from 'pino'
import type { Clock } from './clock.ts'

/** While a fault lasts, how often it is logged again, with the failures counted since the last line. */
export const FAULT_LOG_PERIOD_MS = 60_000

/**
 * One dependency's faults (Redis, the store), logged without a line per request: the first failure
 * once (WARN), then while the fault lasts one line per period with how many failures it counted and
 * on which operations, then its recovery (INFO) with the total and how long it lasted. Every path
 * that meets the dependency on a request reports here instead of logging by itself, so an outage
 * costs a few lines a minute, whatever the traffic. Reasons must be free of secrets (error codes,
 * the store's own messages).
 */
export class FaultLog {
  #since: number | undefined
  #lastLineAt = 0
  #total = 0
  readonly #sinceLine = new Map<string, number>()
  readonly #logger: Logger
  readonly #dependency: string
  readonly #clock: Clock
  readonly #periodMs: number

  constructor(options: { logger: Logger; dependency: string; clock: Clock; periodMs?: number }) {
    this.#logger = options.logger
    this.#dependency = options.dependency
    this.#clock = options.clock
    this.#periodMs = options.periodMs ?? FAULT_LOG_PERIOD_MS
  }

  /** Whether the dependency is failing now (no success since its last failure). */
  get failing(): boolean {
    return this.#since !== undefined
  }

  /** One failure of `operation`; `reason` describes it (logged with the first line and each period's). */
  failed(operation: string, reason: string): void {
    const now = this.#clock.now()
    this.#total += 1
    this.#sinceLine.set(operation, (this.#sinceLine.get(operation) ?? 0) + 1)
    if (this.#since === undefined) {
      this.#since = now
      this.#line(now, reason, `${this.#dependency} unavailable`)
    } else if (now - this.#lastLineAt >= this.#periodMs) {
      this.#line(now, reason, `${this.#dependency} still unavailable`)
    }
  }

  /** A success: if the dependency was failing, its recovery is logged once. */
  recovered(): void {
    if (this.#since === undefined) return
    const now = this.#clock.now()
    this.#logger.info(
      { dependency: this.#dependency, failures: this.#total, down_ms: now - this.#since },
      `${this.#dependency} recovered`,
    )
    this.#since = undefined
    this.#total = 0
    this.#sinceLine.clear()
  }

  #line(now: number, reason: string, message: string): void {
    const failures = [...this.#sinceLine.values()].reduce((a, b) => a + b, 0)
    this.#logger.warn(
      {
        dependency: this.#dependency,
        reason,
        failures,
        operations: Object.fromEntries(this.#sinceLine),
        since: new Date(this.#since ?? now).toISOString(),
      },
      message,
    )
    this.#lastLineAt = now
    this.#sinceLine.clear()
  }
}
