import { StoreError } from './errors.ts'
import type { Store } from './types.ts'
import { wrapMethods } from './wrap-methods.ts'

/**
 * Calls made off any request's path (settling finished streams, refunds, lease upkeep, the poll,
 * housekeeping): they keep the pool's own, longer bounds, and no client waits on them.
 */
const BACKGROUND: ReadonlySet<string> = new Set([
  'settleUsage',
  'refundCharacters',
  'refundAudio',
  'releaseSlot',
  'renewSlots',
  'recordRefusal',
  'touchApiKey',
  'prune',
  'claimWebhookDeliveries',
  'recordWebhookAttempt',
  'pruneWebhookEvents',
  'pruneAudit',
  // An expired key's audit row is written off the 401's path.
  'appendAudit',
  'version',
  'snapshot',
  'close',
])

/**
 * The store with a deadline on every call a request waits for: a store that stalls (a black-holed
 * link answers nothing, and the pool's own bounds run to seconds) costs a request at most
 * `deadlineMs`, then it gets the path's documented answer: 503 `store_unavailable`, or the path's
 * fallback (rate limits are then counted in this process). The call itself is not cancelled: a write
 * may still land later, which leaves a counter charged (the safe side) or a revocation stored.
 */
export function withRequestDeadline(store: Store, deadlineMs: number): Store {
  return wrapMethods(store, (method, name) => {
    if (BACKGROUND.has(name)) return method.bind(store)
    return (...args: unknown[]) => {
      const result: unknown = method.apply(store, args)
      return result instanceof Promise ? beforeDeadline(result, deadlineMs, name) : result
    }
  })
}

function beforeDeadline<T>(call: Promise<T>, deadlineMs: number, operation: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new StoreError('store_unavailable', `the store did not answer ${operation} within ${deadlineMs} ms`)),
      deadlineMs,
    )
  })
  // A call that fails after its deadline has already been answered for: nothing is left to hear it.
  call.catch(() => undefined)
  return Promise.race([call, late]).finally(() => clearTimeout(timer))
}
