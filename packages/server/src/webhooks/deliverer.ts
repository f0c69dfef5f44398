import type { Logger } from 'pino'
import type { Clock } from '../clock.ts'
import { isStoreOutage } from '../store/errors.ts'
import type { ClaimedDelivery, Store } from '../store/types.ts'
import type { DestinationPolicy } from './destination.ts'
import { nextAttemptAt } from './retry.ts'
import { DELIVERY_TIMEOUT_MS, sendWebhook } from './send.ts'
import { signedHeaders } from './signature.ts'

/** Deliveries one instance attempts at once. */
const BATCH = 20
/** A claimed delivery is this instance's for this long: an attempt's timeout, with room to record it. */
const LEASE_MS = DELIVERY_TIMEOUT_MS * 3

export interface DelivererOptions {
  store: Store
  clock: Clock
  logger: Logger
  policy: DestinationPolicy
  /** How often the outbox is polled for due deliveries (events made on other instances, retries). */
  pollMs: number
}

/**
 * Each instance's webhook sender: polls the store's outbox for due deliveries, claims a batch (no
 * other instance takes them while the lease lasts), attempts each, and records the outcome with the
 * next attempt's time. Events enqueued on this instance wake it at once. Delivery is at least once:
 * an instance that dies mid-attempt leaves its lease to run out, and another attempts again with the
 * same `webhook-id`.
 */
export class WebhookDeliverer {
  #timer: NodeJS.Timeout | undefined
  #running: Promise<void> | undefined
  #again = false
  #stopped = false

  constructor(private readonly o: DelivererOptions) {}

  start(): void {
    this.#timer = setInterval(() => this.wake(), this.o.pollMs)
    this.#timer.unref()
    this.wake()
  }

  /** Looks for due deliveries now (a run already under way looks again when it ends). */
  wake(): void {
    if (this.#stopped) return
    if (this.#running) {
      this.#again = true
      return
    }
    this.#running = this.#drain()
      .catch((err: unknown) => {
        if (!isStoreOutage(err)) this.o.logger.error({ err }, 'webhook delivery failed')
      })
      .finally(() => {
        this.#running = undefined
        if (this.#again && !this.#stopped) {
          this.#again = false
          this.wake()
        }
      })
  }

  /** Stops polling and waits for the attempts under way (each ends within its timeout). */
  async stop(): Promise<void> {
    this.#stopped = true
    clearInterval(this.#timer)
    await this.#running
  }

  async #drain(): Promise<void> {
    for (;;) {
      const batch = await this.o.store.claimWebhookDeliveries(this.o.clock.now(), LEASE_MS, BATCH)
      await Promise.all(batch.map((d) => this.#attempt(d)))
      if (batch.length < BATCH || this.#stopped) return
    }
  }

  async #attempt(d: ClaimedDelivery): Promise<void> {
    const attempt = d.attempt + 1
    const headers = signedHeaders({
      id: d.eventId,
      timestampSeconds: Math.floor(this.o.clock.now() / 1000),
      body: d.body,
      secret: d.secret,
    })
    const result = await sendWebhook({ url: d.url, headers, body: d.body, policy: this.o.policy }).catch(
      (err: unknown) => ({ statusCode: null, error: err instanceof Error ? err.message : String(err) }),
    )
    const now = this.o.clock.now()
    const next = result.error === null ? null : nextAttemptAt(d.eventCreatedAt, attempt, now)
    if (result.error !== null)
      this.o.logger.warn(
        { webhook_id: d.webhookId, event_id: d.eventId, attempt, error: result.error, gave_up: next === null },
        'webhook attempt failed',
      )
    await this.o.store.recordWebhookAttempt({
      webhookId: d.webhookId,
      eventId: d.eventId,
      attempt,
      statusCode: result.statusCode,
      error:
        result.error === null
          ? null
          : next === null
            ? `${result.error}; gave up after ${attempt} attempts`
            : result.error,
      nextAttemptAt: next,
      deliveredAt: result.error === null ? now : null,
    })
  }
}
