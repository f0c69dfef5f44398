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

/**
 * Gathers the settlements of streams that end in the same turn of the event loop and writes them in
 * one transaction, rows for the same ledger line and refunds to the same counter added up first: under
 * load, a hundred streams ending together cost one write instead of a hundred. Nothing waits for a
 * timer: the batch is flushed on `setImmediate`, so a lone settlement lands as soon as it would have,
 * and each caller's promise settles with its batch's write (durable once it resolves).
 */
export class SettlementBatch {
  #deltas = new Map<string, UsageDelta>()
  #refunds = new Map<string, { characters: number; audioMs: number }>()
  #waiters: Waiter[] = []
  #scheduled: NodeJS.Immediate | undefined

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
    this.#scheduled ??= setImmediate(() => this.flush())
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }))
  }

  /** Whether a refund to counter `key` waits here (a reservation against it must see it first). */
  refunds(key: string): boolean {
    return this.#refunds.has(key)
  }

  /** Writes what is pending now (before the ledger is read, and before the store closes). */
  flush(): void {
    if (this.#scheduled) clearImmediate(this.#scheduled)
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
    try {
      this.write(batch)
      for (const w of waiters) w.resolve()
    } catch (err) {
      for (const w of waiters) w.reject(err)
    }
  }
}
