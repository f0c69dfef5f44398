import { randomId } from '../ids.ts'
import type { OutboxEvent, Store } from '../store/types.ts'
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
 * An event as the outbox stores it: a new id, and its body, `{"type","timestamp","data"}`, fixed here,
 * so every attempt signs the same bytes. An admin change hands it to the store in its trail
 * (store/trail.ts), to be stored in the change's own transaction.
 */
export function outboxEvent(e: Omit<NewOutboxEvent, 'webhookId'>): OutboxEvent {
  const body = JSON.stringify({ type: e.type, timestamp: new Date(e.atMs).toISOString(), data: e.data })
  return { id: randomId('msg'), type: e.type, body, createdAt: e.atMs, dedupeKey: e.dedupeKey ?? null }
}

/**
 * Puts an event in the store's outbox, durable once this resolves: the running servers deliver it
 * (whichever instance claims it first), so a CLI command or an instance that dies right after still
 * has it sent. Returns the event id, or undefined when `dedupeKey` was taken.
 */
export async function enqueueEvent(store: Store, e: NewOutboxEvent): Promise<string | undefined> {
  const event = outboxEvent(e)
  return (await store.enqueueWebhookEvent(event, e.webhookId)) ? event.id : undefined
}

/** Where a change announces its event: the server's Outbox (a CLI command has none: a running server sends it). */
export interface EventSink {
  enqueue(
    type: OutboxEventType,
    data: Record<string, unknown>,
    options: Omit<NewOutboxEvent, 'type' | 'data'>,
  ): Promise<string | undefined>
  /** Told that a change stored its event in the outbox itself (its trail), so this instance may send it at once. */
  stored(): void
}

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

  stored(): void {
    this.wake()
  }
}
