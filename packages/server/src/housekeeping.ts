import type { Logger } from 'pino'
import { TOKEN_TTL_MAX_SECONDS } from '@voxgate/protocol'
import type { Clock } from './clock.ts'
import type { Store } from './store/types.ts'
import { announceExpiringKeys } from './webhooks/expiring.ts'
import { EVENT_RETENTION_MS } from './webhooks/outbox.ts'

const DAY_MS = 86_400_000
import { CONSOLE_SESSION_IDLE_MS } from './auth/console-sessions.ts'

/**
 * Drops what can never matter again, on a timer, so the store cannot grow without bound: signing
 * keys retired longer ago than any token lives (plus the clock tolerance), revocations past
 * their own expiry, webhook events past their retention, and audit rows older than the retention. It
 * also enqueues `api_key.expiring` for keys near their expiry. Runs once at start, then every `intervalMs`.
 */
export function startHousekeeping(
  store: Store,
  clock: Clock,
  options: { intervalMs: number; toleranceSeconds: number; auditRetentionDays: number },
  logger: Logger,
): () => void {
  const run = () => {
    const now = clock.now()
    const before = now - (TOKEN_TTL_MAX_SECONDS + options.toleranceSeconds) * 1000
    Promise.all([
      store.prune(before),
      store.pruneWebhookEvents(now - EVENT_RETENTION_MS),
      announceExpiringKeys(store, now),
    ]).catch((err: unknown) => logger.error({ err }, 'store housekeeping failed'))
    store
      .pruneAudit(now - options.auditRetentionDays * DAY_MS)
      .catch((err: unknown) => logger.error({ err }, 'audit log housekeeping failed'))
    store
      .pruneConsoleSessions(now, now - CONSOLE_SESSION_IDLE_MS)
      .catch((err: unknown) => logger.error({ err }, 'console session housekeeping failed'))
  }
  run()
  const timer = setInterval(run, options.intervalMs)
  timer.unref()
  return () => clearInterval(timer)
}
