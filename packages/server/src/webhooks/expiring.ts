import type { Store } from '../store/types.ts'
import { enqueueEvent } from './outbox.ts'

const DAY_MS = 86_400_000
/** `api_key.expiring` is sent this long before a key's `expires_at`: 7 days, then 1 day. */
export const EXPIRY_NOTICES_DAYS = [7, 1] as const

/**
 * Enqueues `api_key.expiring` for each live key within 7 days or 1 day of its expiry, once each (the
 * dedupe key holds the key's expiry, so a key given a new expiry is announced again). A key found
 * already within a day gets the 1-day notice only. Run by housekeeping on every instance: the outbox
 * keeps it to one event each.
 */
export async function announceExpiringKeys(store: Store, nowMs: number): Promise<void> {
  for (const key of await store.listApiKeys()) {
    if (key.revokedAt !== null || key.expiresAt === null || key.expiresAt <= nowMs) continue
    const left = key.expiresAt - nowMs
    const days = EXPIRY_NOTICES_DAYS.filter((d) => left <= d * DAY_MS).at(-1)
    if (days === undefined) continue
    await enqueueEvent(store, {
      type: 'api_key.expiring',
      data: { id: key.id, name: key.name, expires_at: new Date(key.expiresAt).toISOString(), days },
      atMs: nowMs,
      dedupeKey: `api_key.expiring|${key.id}|${key.expiresAt}|${days}`,
    })
  }
}
