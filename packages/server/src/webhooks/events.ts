/**
 * The events a webhook may subscribe to (issue 22 item 4). `webhook.test` is not among them: it goes
 * only to the webhook it tests (`POST /webhooks/:id/test`).
 */
export const WEBHOOK_EVENT_TYPES = [
  'quota.threshold',
  'api_key.created',
  'api_key.rotated',
  'api_key.revoked',
  'api_key.expiring',
  'signing_key.rotated',
] as const
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number]

/** Every type an event in the outbox may have. */
export type OutboxEventType = WebhookEventType | 'webhook.test'

/** What a `quota.threshold` event says: never a secret, a token or a transcript. */
export interface QuotaThresholdData {
  quota_id: string
  sub: string | null
  key_id: string | null
  period: 'day' | 'month'
  /** The period's first instant, RFC 3339 (UTC). */
  period_start: string
  /** The fraction of the cap reached, e.g. 0.8. */
  threshold: number
  /** Usage after the reservation that reached it, in `unit`. */
  used: number
  limit: number
  unit: 'characters' | 'audio_seconds'
}

/**
 * The one key a threshold's event holds in the outbox: a quota, period, meter and threshold yield
 * one event, whichever instance and stream reach it first.
 */
export const quotaThresholdKey = (d: QuotaThresholdData): string =>
  `quota.threshold|${d.quota_id}|${d.period_start}|${d.unit}|${d.threshold}`
