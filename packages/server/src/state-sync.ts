import type { Logger } from 'pino'
import type { KeyRing } from './auth/key-ring.ts'
import type { RevocationList } from './auth/revocations.ts'
import type { Store } from './store/types.ts'

/**
 * Keeps this process's view of the store (signing keys, revoked keys, token revocations) current.
 * The CLI and other instances write to the store; every `pollMs` we read one counter and reload only
 * when it moved, so the steady-state cost is one indexed read per second.
 */
export class StateSync {
  #version = -1
  #timer: NodeJS.Timeout | undefined
  readonly #listeners = new Set<() => void>()

  constructor(
    private readonly store: Store,
    private readonly keyRing: KeyRing,
    private readonly revocations: RevocationList,
    private readonly logger: Logger,
  ) {}

  /** Called after every reload, so open streams can be re-checked against revocations. */
  onChange(listener: () => void): () => void {
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
    for (const listener of this.#listeners) listener()
  }

  start(pollMs: number): void {
    this.#timer = setInterval(() => {
      this.refresh().catch((err: unknown) => this.logger.error({ err }, 'store poll failed'))
    }, pollMs)
    this.#timer.unref()
  }

  stop(): void {
    clearInterval(this.#timer)
  }
}
