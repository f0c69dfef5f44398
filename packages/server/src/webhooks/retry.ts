/** The first retry comes this long after a failed attempt: within 10 s, as the issue asks. */
export const FIRST_RETRY_MS = 5000
/** Each later wait is this many times the one before, up to the cap. */
const BACKOFF_FACTOR = 4
const MAX_WAIT_MS = 8 * 3_600_000
/** An event is retried for this long after it was made; then its delivery gives up. */
export const RETRY_WINDOW_MS = 24 * 3_600_000

/**
 * When attempt `attempt + 1` is due after attempt `attempt` (1-based) failed at `nowMs`: 5 s, 20 s,
 * 80 s, … (×4, at most 8 h apart), the last one at the end of the 24 h window; null when the window
 * is over (the delivery gives up).
 */
export function nextAttemptAt(eventCreatedAt: number, attempt: number, nowMs: number): number | null {
  const deadline = eventCreatedAt + RETRY_WINDOW_MS
  if (nowMs >= deadline) return null
  const wait = Math.min(MAX_WAIT_MS, FIRST_RETRY_MS * BACKOFF_FACTOR ** Math.max(0, attempt - 1))
  return Math.min(nowMs + wait, deadline)
}
