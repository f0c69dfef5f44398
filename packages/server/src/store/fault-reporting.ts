import type { FaultLog } from '../fault-log.ts'
import { isStoreOutage } from './errors.ts'
import type { Store } from './types.ts'
import { wrapMethods } from './wrap-methods.ts'

/**
 * The store, with every call's outcome told to the store's fault log: a call the store did not
 * answer (`store_unavailable`, its deadline included) is a fault of that operation, any answer a
 * recovery. The paths that meet an outage then need not log it themselves, once per request.
 */
export function faultReportingStore(store: Store, faults: FaultLog): Store {
  return wrapMethods(store, (method, name) => (...args: unknown[]) => {
    const result: unknown = method.apply(store, args)
    if (result instanceof Promise)
      result.then(
        () => faults.recovered(),
        (err: unknown) => {
          if (isStoreOutage(err)) faults.failed(name, (err as Error).message)
        },
      )
    return result
  })
}
