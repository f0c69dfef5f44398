import { randomId } from '../ids.ts'
import type { Store } from '../store/types.ts'
import type { OutboxEventType } from './events.ts'

/**
 * Events (and their deliveries) are kept this long, then pruned: past any retry window (24 h), and
 * past the longest quota period, so a threshold's dedupe key outlives the period it is for.
 */
export const EVENT_RETENTION_MS = 35 * 86_400_000

export interface NewOutboxEvent {
  type: OutboxEventType
  data: Record<string, unknown>
  atMs: number
  /** At most one event ever holds a given key, across every process sharing the store. */
  dedupeKey?: string
  /** Only to this webhook, whatever it subscribed to (a test event). */
  webhookId?: string
}

/**
 * Puts an event in the store's outbox, durable once this resolves: the running servers deliver it
 * (whichever instance claims it first), so a CLI command or an instance that dies right after still
 * has it sent. Its body, `{"type","timestamp","data"}`, is fixed here, so every attempt signs the
 * same bytes. Returns the event id, or undefined when `dedupeKey` was taken.
 */
export async function enqueueEvent(store: Store, e: NewOutboxEvent): Promise<string | undefined> {
  const id = randomId('msg')
  const body = JSON.stringify({ type: e.type, timestamp: new Date(e.atMs).toISOString(), data: e.data })
  const stored = await store.enqueueWebhookEvent(
    { id, type: e.type, body, createdAt: e.atMs, dedupeKey: e.dedupeKey ?? null },
    e.webhookId,
  )
  return stored ? id : undefined
}

/** Where a change announces its event: the server's Outbox, or the store's outbox alone (the CLI). */
export interface EventSink {
  enqueue(
    type: OutboxEventType,
    data: Record<string, unknown>,
    options: Omit<NewOutboxEvent, 'type' | 'data'>,
  ): Promise<string | undefined>
}

/** The outbox of a store with no deliverer in this process (the CLI): a running server sends it. */
export const storeEvents = (store: Store): EventSink => ({
  enqueue: (type, data, options) => enqueueEvent(store, { type, data, ...options }),
})

/**
 * The server's side of the outbox: enqueues, then tells this instance's deliverer, so an event made
 * here leaves at once instead of at the next poll. Other callers (rotation, the audit) use this.
 */
export class Outbox implements EventSink {
  constructor(
    private readonly store: Store,
    private readonly wake: () => void = () => undefined,
  ) {}

  async enqueue(type: OutboxEventType, data: Record<string, unknown>, options: Omit<NewOutboxEvent, 'type' | 'data'>) {
    const id = await enqueueEvent(this.store, { type, data, ...options })
    if (id !== undefined) this.wake()
    return id
  }
}
