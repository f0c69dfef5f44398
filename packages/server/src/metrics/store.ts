import type { Store } from '../store/types.ts'
import type { Metrics } from './metrics.ts'

/**
 * The store, with every failed call counted by operation (the method's name, from the Store
 * interface: a closed set). Calls run on the store itself, so its private state is untouched.
 */
export function meteredStore(store: Store, metrics: Metrics): Store {
  if (!metrics.registry) return store
  return new Proxy(store, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop)
      if (typeof value !== 'function' || typeof prop !== 'string') return value
      return (...args: unknown[]) => {
        try {
          const result: unknown = value.apply(target, args)
          if (result instanceof Promise) result.catch(() => metrics.storeError(prop))
          return result
        } catch (err) {
          metrics.storeError(prop)
          throw err
        }
      }
    },
  })
}
