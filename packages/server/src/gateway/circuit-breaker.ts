import type { Clock } from '../clock.ts'
import { type CircuitRecord, type CircuitStore, probeDue } from './circuit-store.ts'
import { UpstreamCircuitOpen, upstreamOutcome } from './upstream-failure.ts'

/** Reported by a relay the upstream failed after it started (circuit-breaker.ts `CircuitTicket.failed`). */
const UPSTREAM_FAILED = Symbol('upstream failed mid-way')
/** Reported by a relay that ended for its client's sake: no verdict on the upstream. */
const ABANDONED = Symbol('abandoned')

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
    const outcome = err === undefined ? 'answered' : err === UPSTREAM_FAILED ? 'failure' : upstreamOutcome(err)
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

  /**
   * Starts one relay through the breaker: admitted first; a call that throws is counted at once (its
   * error is rethrown); one that succeeds hands back its ticket, on which the relay reports how it
   * ended (an upstream that accepts and then fails is a failure too).
   */
  async start<T>(call: () => Promise<T>): Promise<Started<T>> {
    const ticket = new CircuitTicket(this, await this.admit())
    let value: T
    try {
      value = await call()
    } catch (err) {
      await ticket.settle(err)
      throw err
    }
    return { value, ticket }
  }

  async state(): Promise<CircuitState> {
    return stateOf(await this.options.store.read(), this.options.clock.now())
  }
}

/** A relay the upstream accepted, and its ticket for the outcome still to come. */
export interface Started<T> {
  value: T
  ticket: CircuitTicket
}

/**
 * One admitted relay's standing with the breaker. The start of a relay proves little (an upstream
 * that answers 200 and then cuts the body is failing), so the relay reports when its outcome is
 * known: `answered` on a clean finish (a stream's end, a socket context's `done`), `failed` when
 * the upstream cut it, went quiet past the idle limit or sent a 5xx event, `abandoned` when it ended
 * for the client's sake (it left, its token was revoked): that says nothing of the upstream. A long
 * socket may report many times; only its first report is the probe's verdict.
 */
export class CircuitTicket {
  #admission: Admission
  #reported = false

  constructor(
    private readonly breaker: CircuitBreaker | undefined,
    admission: Admission,
  ) {
    this.#admission = admission
  }

  answered(): void {
    this.#report(undefined)
  }

  /** The upstream failed the relay after it started (cut, stalled, a 5xx event): a failure whatever `err` says. */
  failed(): void {
    this.#report(UPSTREAM_FAILED)
  }

  abandoned(): void {
    if (!this.#reported) this.#report(ABANDONED)
  }

  /** A call that threw before it started: counted as its error says (a client's 4xx is an answer). */
  settle(err: unknown): Promise<void> {
    return this.#report(err)
  }

  /** Resolves once the store has it; a relay need not wait (the stores never reject: circuit-store.ts). */
  #report(err: unknown): Promise<void> {
    const admission = this.#admission
    this.#reported = true
    // After the first report the relay is an ordinary request: its answers write (the count may have moved).
    this.#admission = { probe: false, clean: false }
    return this.breaker?.report(admission, err).catch(() => undefined) ?? Promise.resolve()
  }
}

/** A relay without a breaker (none configured): its reports go nowhere. */
export const NO_TICKET = new CircuitTicket(undefined, { probe: false, clean: true })

/** `call` through `circuit` where there is one (gateway mode always has one). */
export function startThrough<T>(circuit: CircuitBreaker | undefined, call: () => Promise<T>): Promise<Started<T>> {
  return circuit ? circuit.start(call) : call().then((value) => ({ value, ticket: NO_TICKET }))
}
