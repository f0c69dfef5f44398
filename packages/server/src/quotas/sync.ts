import type { Clock } from '../clock.ts'
import type { QuotaRecord, Store } from '../store/types.ts'
import type { QuotaBook } from './book.ts'
import { alignWithLedger } from './ledger-seed.ts'

/** A cap this process did not enforce before: a new quota, or a meter newly capped on one it knew. */
function newlyCapped(before: QuotaRecord | undefined, now: QuotaRecord): boolean {
  if (!before) return true
  return (
    (now.characters !== null && before.characters === null) ||
    (now.audioSeconds !== null && before.audioSeconds === null)
  )
}

/**
 * Keeps this process's quota book current: reloaded after a change made here (before the change is
 * answered), on another instance's notice (Redis), and when the store's version moves (the poll).
 * Reads may finish out of order: the newest read wins, an older one finishing later is dropped. A
 * cap first seen here has its counters aligned with the usage ledger, for what this process served
 * before it knew of the cap.
 */
export class QuotaSync {
  #requested = 0
  #applied = 0
  #known = new Map<string, QuotaRecord>()
  /** Tells the other instances (Redis notice); unset without Redis, where the store poll carries it. */
  notifyOthers: (() => void) | undefined

  constructor(
    readonly book: QuotaBook,
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  /** Reads the quotas and enforces them; resolves once the book holds them and new caps are aligned. */
  async reload(options: { align: boolean } = { align: true }): Promise<void> {
    const seq = ++this.#requested
    const quotas = await this.store.listQuotas()
    if (seq < this.#applied) return
    this.#applied = seq
    this.book.load(quotas)
    const fresh = options.align ? quotas.filter((q) => newlyCapped(this.#known.get(q.id), q)) : []
    this.#known = new Map(quotas.map((q) => [q.id, q]))
    const now = this.clock.now()
    await Promise.all(fresh.map((q) => alignWithLedger(this.store, q, now)))
  }

  /** A change made here: enforced here before this resolves, and announced to the other instances. */
  async changed(): Promise<void> {
    await this.reload()
    this.notifyOthers?.()
  }
}
