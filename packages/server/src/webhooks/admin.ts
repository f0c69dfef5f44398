import { VoxgateError } from '@voxgate/protocol'
import { isoOrNull, type Clock } from '../clock.ts'
import { randomId } from '../ids.ts'
import { auditDraft, type AuditOrigin } from '../store/audit-types.ts'
import type { Store, WebhookDelivery, WebhookRecord } from '../store/types.ts'
import { checkedAddresses, DestinationRefused, type DestinationPolicy } from './destination.ts'
import { enqueueEvent } from './outbox.ts'
import { DELIVERIES_LISTED, MAX_WEBHOOKS, type WebhookCreate } from './schema.ts'
import { newWebhookSecret } from './signature.ts'

/** A URL with its path and query hidden (what a `read` key sees): they often carry a receiver's token. */
export function maskedUrl(url: string): string {
  const u = new URL(url)
  return `${u.protocol}//${u.host}/***`
}

export const webhookView = (w: WebhookRecord, options: { masked: boolean }) => ({
  id: w.id,
  url: options.masked ? maskedUrl(w.url) : w.url,
  events: w.events,
  created_at: isoOrNull(w.createdAt),
})

export const deliveryView = (d: WebhookDelivery) => ({
  event_id: d.eventId,
  type: d.type,
  attempt: d.attempt,
  status_code: d.statusCode,
  error: d.error,
  next_attempt_at: isoOrNull(d.nextAttemptAt),
  delivered_at: isoOrNull(d.deliveredAt),
})

const notFound = () => new VoxgateError('not_found', 'No webhook has this id.')

/**
 * Adding, listing, removing and testing webhooks: the one implementation behind `/webhooks` and
 * `voxgate webhooks`. A URL is checked when it is added (scheme, and every address its host
 * resolves to) and again at every delivery. Adding and removing write their audit rows in the same
 * transaction as the change.
 */
export class WebhookAdmin {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly policy: DestinationPolicy,
    /** Called after an event was enqueued here (the server's deliverer sends it at once). */
    private readonly enqueued: () => void = () => undefined,
  ) {}

  async add(input: WebhookCreate, origin: AuditOrigin) {
    let url: URL
    try {
      url = new URL(input.url)
    } catch {
      throw new VoxgateError('invalid_request', 'Invalid request body: url: not a URL')
    }
    try {
      await checkedAddresses(url, this.policy)
    } catch (err) {
      if (err instanceof DestinationRefused) throw new VoxgateError('webhook_url_not_allowed', `${err.message}.`)
      throw err
    }
    if ((await this.store.listWebhooks()).length >= MAX_WEBHOOKS)
      throw new VoxgateError(
        'invalid_request',
        `Invalid request body: at most ${MAX_WEBHOOKS} webhooks; remove one first.`,
      )
    const record: WebhookRecord = {
      id: randomId('wh'),
      url: url.href,
      events: input.events,
      secret: newWebhookSecret(),
      createdAt: this.clock.now(),
    }
    // The row shows the URL masked, as a `read` key sees it (GET /audit is `read`): a URL's path and
    // query often carry the receiver's token.
    const audit = auditDraft(origin, {
      at: record.createdAt,
      action: 'webhook.created',
      target: { type: 'webhook', id: record.id },
      details: { url: maskedUrl(record.url), events: record.events },
    })
    await this.store.createWebhook(record, audit)
    return { ...webhookView(record, { masked: false }), secret: record.secret }
  }

  async list(options: { masked: boolean }) {
    return (await this.store.listWebhooks()).map((w) => webhookView(w, options))
  }

  async remove(id: string, origin: AuditOrigin): Promise<void> {
    const audit = auditDraft(origin, {
      at: this.clock.now(),
      action: 'webhook.removed',
      target: { type: 'webhook', id },
    })
    if (!(await this.store.removeWebhook(id, audit))) throw notFound()
  }

  async deliveries(id: string) {
    if (!(await this.store.getWebhook(id))) throw notFound()
    return (await this.store.listWebhookDeliveries(id, DELIVERIES_LISTED)).map(deliveryView)
  }

  /** Sends a `webhook.test` event to this webhook alone, delivered and retried like any other. */
  async test(id: string): Promise<{ event_id: string }> {
    const webhook = await this.store.getWebhook(id)
    if (!webhook) throw notFound()
    const eventId = await enqueueEvent(this.store, {
      type: 'webhook.test',
      data: { webhook_id: id },
      atMs: this.clock.now(),
      webhookId: id,
    })
    this.enqueued()
    return { event_id: eventId! }
  }

  /** A new secret, at once: later attempts (pending retries included) are signed with it. */
  async rotateSecret(id: string): Promise<{ id: string; secret: string }> {
    const secret = newWebhookSecret()
    if (!(await this.store.setWebhookSecret(id, secret))) throw notFound()
    return { id, secret }
  }
}
