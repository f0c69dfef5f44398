import type { Principal } from '../auth/principal.ts'
import type { QuotaRecord } from '../store/types.ts'
import { COUNTER_GRACE_MS, periodOf, quotaCounter } from './period.ts'

/** What a quota caps: characters synthesized, or milliseconds of audio transcribed. */
export type QuotaMeter = 'characters' | 'audio'

/** One quota's counter to charge for a reservation made now. */
export interface QuotaCharge {
  quota: QuotaRecord
  /** The counter's key in the store (`quota:<id>:<period>`). */
  key: string
  /** The cap in the meter's unit (characters, or ms of audio). */
  limit: number
  expiresAt: number
  /** When the period ends: a refused client may retry then (`Retry-After`). */
  periodEndMs: number
  periodStartMs: number
}

const ANY = '\u0000'
const scope = (keyId: string | null, sub: string | null) => `${keyId ?? ANY}\u0001${sub ?? ANY}`

/**
 * This process's copy of the quotas, indexed by scope so finding those that apply to a request costs
 * four map lookups, however many quotas there are. Reloaded from the store when its version moves
 * (any instance's change reaches every instance within the poll interval) and at once after a change
 * made here.
 */
export class QuotaBook {
  #byScope = new Map<string, QuotaRecord[]>()
  #count = 0

  load(quotas: readonly QuotaRecord[]): void {
    const next = new Map<string, QuotaRecord[]>()
    for (const q of quotas) {
      const k = scope(q.keyId, q.sub)
      const list = next.get(k)
      if (list) list.push(q)
      else next.set(k, [q])
    }
    this.#byScope = next
    this.#count = quotas.length
  }

  get size(): number {
    return this.#count
  }

  /** Quotas that apply to the principal: its key's, its end-user's, both's, and those on everyone. */
  matching(principal: Principal): QuotaRecord[] {
    if (this.#count === 0) return []
    const sub = principal.kind === 'token' ? (principal.sub ?? null) : null
    const scopes =
      sub === null
        ? [scope(principal.keyId, null), scope(null, null)]
        : [scope(principal.keyId, sub), scope(null, sub), scope(principal.keyId, null), scope(null, null)]
    return scopes.flatMap((s) => this.#byScope.get(s) ?? [])
  }

  /** The counters a reservation of `meter` made at `nowMs` must charge, one per quota capping it. */
  charges(principal: Principal, meter: QuotaMeter, nowMs: number): QuotaCharge[] {
    const out: QuotaCharge[] = []
    for (const quota of this.matching(principal)) {
      const cap =
        meter === 'characters' ? quota.characters : quota.audioSeconds === null ? null : quota.audioSeconds * 1000
      if (cap === null) continue
      const span = periodOf(quota.period, nowMs)
      out.push({
        quota,
        key: quotaCounter(quota.id, span.key),
        limit: cap,
        expiresAt: span.endMs + COUNTER_GRACE_MS,
        periodEndMs: span.endMs,
        periodStartMs: span.startMs,
      })
    }
    return out
  }
}
