import { createHmac, randomBytes } from 'node:crypto'

/** Standard Webhooks' secret prefix; the rest is the base64 of the HMAC key. */
export const SECRET_PREFIX = 'whsec_'
/** Random bytes in a secret (the convention asks for 24 to 64). */
const SECRET_BYTES = 32

export const newWebhookSecret = (): string => SECRET_PREFIX + randomBytes(SECRET_BYTES).toString('base64')

/**
 * The headers of one attempt, per the Standard Webhooks convention: `webhook-id` (the event's id,
 * the same on every retry, so a receiver can drop duplicates), `webhook-timestamp` (seconds, the
 * attempt's), and `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">` keyed with the
 * base64-decoded part of the secret after `whsec_`.
 */
export function signedHeaders(input: {
  id: string
  timestampSeconds: number
  body: string
  secret: string
}): Record<string, string> {
  const key = Buffer.from(input.secret.slice(SECRET_PREFIX.length), 'base64')
  const mac = createHmac('sha256', key).update(`${input.id}.${input.timestampSeconds}.${input.body}`).digest('base64')
  return {
    'webhook-id': input.id,
    'webhook-timestamp': String(input.timestampSeconds),
    'webhook-signature': `v1,${mac}`,
  }
}
