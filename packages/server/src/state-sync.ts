import type { Logger } from 'pino'
import type { KeyRing } from './auth/key-ring.ts'
import type { RevocationList } from './auth/revocations.ts'
import { isStoreOutage } from './store/errors.ts'
import type { Store } from './store/types.ts'

/**
 * Keeps this process's view of the store (signing keys, revoked keys, token revocations) current.
 * The CLI and other instances write to the store; every `pollMs` we read one counter and reload only
 * when it moved, so the steady-state cost is one indexed read per second.
 */
export class StateSync {
  #version = -1
  #timer: NodeJS.Timeout | undefined
  readonly #listeners = new Set<() => void | Promise<void>>()

  constructor(
    private readonly store: Store,
    private readonly keyRing: KeyRing,
    private readonly revocations: RevocationList,
    private readonly logger: Logger,
  ) {}

  /**
   * Called after every reload, so open streams can be re-checked against revocations and the quotas
   * re-read; `refresh` resolves once every listener has.
   */
  onChange(listener: () => void | Promise<void>): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  async refresh(): Promise<void> {
    const version = await this.store.version()
    if (version === this.#version) return
    const snap = await this.store.snapshot()
    this.keyRing.load(snap.signingKeys)
    this.revocations.load(snap.revokedKeyIds, snap.revocations)
    this.#version = snap.version
    await Promise.all([...this.#listeners].map((listener) => listener()))
  }

  start(pollMs: number): void {
    this.#timer = setInterval(() => {
      this.refresh().catch((err: unknown) => {
        // An outage is in the store's fault log: not a line every poll.
        if (!isStoreOutage(err)) this.logger.error({ err }, 'store poll failed')
      })
    }, pollMs)
    this.#timer.unref()
  }

  stop(): void {
    clearInterval(this.#timer)
  }
}
