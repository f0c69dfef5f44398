import { z } from 'zod'
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from './events.ts'

/** Webhooks one deployment may hold: every event fans out to each subscribed one. */
export const MAX_WEBHOOKS = 20
/** Longest webhook URL, characters. */
export const WEBHOOK_URL_MAX_CHARS = 2048
/** Deliveries `GET /webhooks/:id/deliveries` lists, newest first. */
export const DELIVERIES_LISTED = 100

/** `POST /webhooks` and `voxgate webhooks add`. */
export const WebhookCreate = z.strictObject({
  url: z.string().min(1).max(WEBHOOK_URL_MAX_CHARS),
  events: z
    .array(z.enum(WEBHOOK_EVENT_TYPES as unknown as readonly [WebhookEventType, ...WebhookEventType[]]))
    .min(1)
    .max(WEBHOOK_EVENT_TYPES.length)
    .transform((e) => [...new Set(e)]),
})
export type WebhookCreate = z.output<typeof WebhookCreate>
