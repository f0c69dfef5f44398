import type { Clock } from '../clock.ts'
import { type CircuitRecord, type CircuitStore, probeDue } from './circuit-store.ts'
import { UpstreamCircuitOpen, upstreamOutcome } from './upstream-failure.ts'

export type CircuitState = 'closed' | 'open' | 'half_open'

/** The longest a cool-down grows to while probes keep failing (the "doubling to 5 min"). */
export const MAX_COOLDOWN_MS = 5 * 60_000

export interface CircuitBreakerOptions {
  store: CircuitStore
  clock: Clock
  /** Failures in a row that open the circuit (`--upstream-failure-threshold`). */
  failureThreshold: number
  /** The first cool-down (`--upstream-cooldown-seconds`); doubled after each failed probe, up to MAX_COOLDOWN_MS. */
  cooldownMs: number
  /**
   * How long a probe holds the upstream before another request may probe: the upstream's connect and
   * first-byte timeout, so a probe that never returns (its instance died) is not waited on for ever.
   */
  probeMs: number
}

/** A request let through: whether it is the half-open probe, and whether the record was clean (nothing to write on success). */
export interface Admission {
  probe: boolean
  clean: boolean
}

/** The circuit's state at `now`, from its record. */
export function stateOf(r: CircuitRecord, now: number): CircuitState {
  if (r.openedAt === 0) return 'closed'
  return now < r.openedAt + r.cooldownMs ? 'open' : 'half_open'
}

/**
 * The circuit breaker of one upstream. Closed, every request goes upstream and failures in a row
 * are counted (circuit-store.ts says which are failures: the upstream's and the network's, never
 * the client's own refusals). At the threshold it opens: requests skip the upstream for the
 * cool-down (UpstreamCircuitOpen: the fallback, or 502 with Retry-After). Then it is half-open: the
 * next real request is the probe (one for the whole deployment where the store is Redis) and the
 * others are still turned away; the probe's answer closes the circuit, its failure reopens it for
 * twice as long, up to MAX_COOLDOWN_MS.
 */
export class CircuitBreaker {
  constructor(private readonly options: CircuitBreakerOptions) {}

  /** Lets a request through, or throws UpstreamCircuitOpen with when to come back. */
  async admit(): Promise<Admission> {
    const now = this.options.clock.now()
    const { record, probe } = await this.options.store.admit(now, this.options.probeMs)
    if (probe) return { probe: true, clean: false }
    if (record.openedAt === 0) return { probe: false, clean: record.failures === 0 }
    // Open, or half-open with the probe elsewhere: back once the cool-down (or the probe) is over.
    const until = probeDue(record, now) ? now : Math.max(record.openedAt + record.cooldownMs, record.probeUntil)
    throw new UpstreamCircuitOpen(Math.max(1, Math.ceil((until - now) / 1000)))
  }

  /** Reports how an admitted call went: `err` undefined is an answer. */
  async report(admission: Admission, err?: unknown): Promise<void> {
    const outcome = err === undefined ? 'answered' : upstreamOutcome(err)
    const { store, clock } = this.options
    if (outcome === 'failure')
      return store.failed({
        now: clock.now(),
        threshold: this.options.failureThreshold,
        cooldownMs: this.options.cooldownMs,
        maxCooldownMs: MAX_COOLDOWN_MS,
        probe: admission.probe,
      })
    if (outcome === 'answered') return admission.clean ? undefined : store.answered()
    if (admission.probe) return store.releaseProbe()
  }

  /** Runs one upstream call through the breaker: admitted first, its outcome counted before it is returned. */
  async guard<T>(call: () => Promise<T>): Promise<T> {
    const admission = await this.admit()
    let result: T
    try {
      result = await call()
    } catch (err) {
      await this.report(admission, err)
      throw err
    }
    await this.report(admission)
    return result
  }

  async state(): Promise<CircuitState> {
    return stateOf(await this.options.store.read(), this.options.clock.now())
  }
}

/** `call` through `circuit` where there is one (gateway mode always has one). */
export function throughCircuit<T>(circuit: CircuitBreaker | undefined, call: () => Promise<T>): Promise<T> {
  return circuit ? circuit.guard(call) : call()
}
