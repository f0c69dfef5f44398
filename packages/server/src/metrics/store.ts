import type { Store } from '../store/types.ts'
import { wrapMethods } from '../store/wrap-methods.ts'
import type { Metrics } from './metrics.ts'

/**
 * The store, with every failed call counted by operation (the method's name, from the Store
 * interface: a closed set). Calls run on the store itself, so its private state is untouched.
 */
export function meteredStore(store: Store, metrics: Metrics): Store {
  if (!metrics.registry) return store
  return wrapMethods(store, (method, name) => (...args: unknown[]) => {
    try {
      const result: unknown = method.apply(store, args)
      if (result instanceof Promise) result.catch(() => metrics.storeError(name))
      return result
    } catch (err) {
      metrics.storeError(name)
      throw err
    }
  })
}
