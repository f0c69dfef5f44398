import type { Logger } from 'pino'
import { TOKEN_TTL_MAX_SECONDS } from '@voxgate/protocol'
import type { Clock } from './clock.ts'
import type { Store } from './store/types.ts'
import { CONSOLE_SESSION_IDLE_MS } from './console/sessions.ts'

/**
 * Drops what can never matter again, on a timer, so the store cannot grow without bound: signing
 * keys retired longer ago than any token lives (plus the clock tolerance), and revocations past
 * their own expiry. Runs once at start, then every `intervalMs`.
 */
export function startHousekeeping(
  store: Store,
  clock: Clock,
  options: { intervalMs: number; toleranceSeconds: number },
  logger: Logger,
): () => void {
  const run = () => {
    const before = clock.now() - (TOKEN_TTL_MAX_SECONDS + options.toleranceSeconds) * 1000
    store.prune(before).catch((err: unknown) => logger.error({ err }, 'store housekeeping failed'))
    const now = clock.now()
    store
      .pruneConsoleSessions(now, now - CONSOLE_SESSION_IDLE_MS)
      .catch((err: unknown) => logger.error({ err }, 'store housekeeping failed'))
  }
  run()
  const timer = setInterval(run, options.intervalMs)
  timer.unref()
  return () => clearInterval(timer)
}
