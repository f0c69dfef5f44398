import type { Logger } from 'pino'
import type { RedisConnection } from '../shared/redis.ts'
import type { Revocation } from '../store/types.ts'

/** What a bus message tells every instance: a stored revocation, or that the quotas changed. */
export interface BusListeners {
  revoked(r: Revocation): void
  /** Another instance changed the quotas: re-read them from the store. */
  quotasChanged(): void
  /** The subscription came back after a loss: messages published meanwhile are lost. */
  reconnected(): void
}

const QUOTAS_NOTICE = JSON.stringify({ kind: 'quotas' })

/**
 * Fan-out of changes every instance must apply at once: revocations (aim: streams end within 100 ms
 * anywhere) and quota changes (enforced everywhere within 1 s). The instance that stores a change
 * publishes it. The store stays the source of truth: the store poll runs regardless, and after a
 * reconnect an instance re-reads the store, so a message missed while Redis was away is never a
 * change missed.
 */
export class RevocationBus {
  constructor(
    private readonly redis: RedisConnection,
    private readonly logger: Logger,
  ) {}

  get #channel(): string {
    return this.redis.key('revocations')
  }

  async subscribe(listeners: BusListeners): Promise<void> {
    let subscribed = false
    const listener = (message: string) => {
      try {
        const parsed = JSON.parse(message) as Revocation | { kind: 'quotas' }
        if (parsed.kind === 'quotas') listeners.quotasChanged()
        else listeners.revoked(parsed)
      } catch {
        this.logger.warn('ignored a malformed bus message')
      }
    }
    const trySubscribe = async () => {
      if (subscribed) return
      try {
        await this.redis.subscriber.subscribe(this.#channel, listener)
        subscribed = true
      } catch {
        // Not connected: retried on the next 'ready'; the store poll covers the gap.
      }
    }
    let readyBefore = this.redis.subscriber.isReady
    this.redis.subscriber.on('ready', () => {
      // Messages published while we were away are lost: catch up from the store.
      if (readyBefore) listeners.reconnected()
      readyBefore = true
      void trySubscribe()
    })
    await trySubscribe()
  }

  /** Publishes a stored revocation; a failure only means other instances learn of it by polling. */
  publish(revocation: Revocation): void {
    this.#send(JSON.stringify(revocation))
  }

  /** Tells the other instances the quotas changed (they re-read them); a failure leaves it to the poll. */
  publishQuotasChanged(): void {
    this.#send(QUOTAS_NOTICE)
  }

  #send(message: string): void {
    this.redis.call((c) => c.publish(this.#channel, message)).catch(() => undefined)
  }
}
