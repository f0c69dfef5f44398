import type { Logger } from 'pino'
import type { RedisConnection } from '../shared/redis.ts'
import type { Revocation } from '../store/types.ts'

/**
 * Revocation fan-out between instances: the instance that stores a revocation publishes it, every
 * instance applies it at once (aim: streams end within 100 ms anywhere). The store stays the source
 * of truth: the 1 s store poll runs regardless, and after a reconnect an instance re-reads the store,
 * so a message missed while Redis was away is never a revocation missed.
 */
export class RevocationBus {
  constructor(
    private readonly redis: RedisConnection,
    private readonly logger: Logger,
  ) {}

  get #channel(): string {
    return this.redis.key('revocations')
  }

  /** Subscribes; `onRevocation` gets each published revocation, `onReconnect` runs after a reconnect. */
  async subscribe(onRevocation: (r: Revocation) => void, onReconnect: () => void): Promise<void> {
    let subscribed = false
    const listener = (message: string) => {
      try {
        onRevocation(JSON.parse(message) as Revocation)
      } catch {
        this.logger.warn('ignored a malformed revocation message')
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
      if (readyBefore) onReconnect()
      readyBefore = true
      void trySubscribe()
    })
    await trySubscribe()
  }

  /** Publishes a stored revocation; a failure only means other instances learn of it by polling. */
  publish(revocation: Revocation): void {
    this.redis.call((c) => c.publish(this.#channel, JSON.stringify(revocation))).catch(() => undefined)
  }
}
