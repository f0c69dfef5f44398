import type { UsageDelta, UsageRefund } from '../usage.ts'

/** What one flush writes: ledger rows merged by (day, key, sub), refunds merged by counter. */
export interface Settlements {
  deltas: UsageDelta[]
  refunds: { key: string; characters: number; audioMs: number }[]
}

interface Waiter {
  resolve: () => void
  reject: (err: unknown) => void
}

/** Under load, the least time between two writes: settlements meanwhile wait and share the next one. */
export const SETTLEMENT_INTERVAL_MS = 10
/** So many settlements waiting are written at once, whatever the interval. */
const MAX_WAITING = 512

/**
 * Gathers the settlements of streams that end close together and writes them in one transaction,
 * rows for the same ledger line and refunds to the same counter added up first: under load, a hundred
 * streams ending together cost one write instead of a hundred (a commit costs some ten times a row).
 * A settlement after a quiet spell is written on the next turn of the event loop (`setImmediate`),
 * as soon as it would have been alone; one that comes within SETTLEMENT_INTERVAL_MS of the last
 * write waits for the interval's end, so a busy server commits at most once per interval. Each
 * caller's promise settles with its batch's write (durable once it resolves); `flush` writes what
 * waits at once (the store's reads of the ledger and its `close` call it).
 */
export class SettlementBatch {
  #deltas = new Map<string, UsageDelta>()
  #refunds = new Map<string, { characters: number; audioMs: number }>()
  #waiters: Waiter[] = []
  #scheduled: { immediate: NodeJS.Immediate } | { timer: NodeJS.Timeout } | undefined
  #lastWrite = -Infinity

  constructor(private readonly write: (batch: Settlements) => void) {}

  add(d: UsageDelta, refund?: UsageRefund): Promise<void> {
    const id = `${d.day}\u0000${d.keyId}\u0000${d.sub ?? ''}`
    const row = this.#deltas.get(id)
    if (row) {
      row.characters += d.characters
      row.audioMsProduced += d.audioMsProduced
      row.audioMsTranscribed += d.audioMsTranscribed
      row.audioMsVoiceChanged = (row.audioMsVoiceChanged ?? 0) + (d.audioMsVoiceChanged ?? 0)
      row.charactersFallback = (row.charactersFallback ?? 0) + (d.charactersFallback ?? 0)
      row.charactersCached = (row.charactersCached ?? 0) + (d.charactersCached ?? 0)
      row.streams += d.streams
    } else {
      this.#deltas.set(id, { ...d })
    }
    for (const key of refund?.keys ?? []) {
      const r = this.#refunds.get(key) ?? this.#refunds.set(key, { characters: 0, audioMs: 0 }).get(key)!
      r.characters += refund!.characters
      r.audioMs += refund!.audioMs
    }
    const done = new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }))
    if (this.#waiters.length >= MAX_WAITING) this.flush()
    else this.#schedule()
    return done
  }

  #schedule(): void {
    if (this.#scheduled) return
    const wait = this.#lastWrite + SETTLEMENT_INTERVAL_MS - performance.now()
    this.#scheduled =
      wait > 0
        ? { timer: setTimeout(() => this.flush(), Math.ceil(wait)) }
        : { immediate: setImmediate(() => this.flush()) }
  }

  /** Whether a refund to counter `key` waits here (a reservation against it must see it first). */
  refunds(key: string): boolean {
    return this.#refunds.has(key)
  }

  /** Writes what is pending now (before the ledger is read, and before the store closes). */
  flush(): void {
    if (this.#scheduled && 'timer' in this.#scheduled) clearTimeout(this.#scheduled.timer)
    else if (this.#scheduled) clearImmediate(this.#scheduled.immediate)
    this.#scheduled = undefined
    if (this.#waiters.length === 0) return
    const batch: Settlements = {
      deltas: [...this.#deltas.values()],
      refunds: [...this.#refunds].map(([key, r]) => ({ key, ...r })),
    }
    const waiters = this.#waiters
    this.#deltas = new Map()
    this.#refunds = new Map()
    this.#waiters = []
    this.#lastWrite = performance.now()
    try {
      this.write(batch)
      for (const w of waiters) w.resolve()
    } catch (err) {
      for (const w of waiters) w.reject(err)
    }
  }
}
