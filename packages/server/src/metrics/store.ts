import type { Store } from '../store/types.ts'
import type { Metrics } from './metrics.ts'

/**
 * The store, with every failed call counted by operation (the method's name, from the Store
 * interface: a closed set). Calls run on the store itself, so its private state is untouched.
 */
export function meteredStore(store: Store, metrics: Metrics): Store {
  if (!metrics.registry) return store
  // One wrapper per method, made on its first use (again if the method is replaced): the store is
  // called several times a stream, and a new closure per call showed in the profile.
  const wrappers = new Map<string, { value: unknown; wrapper: (...args: unknown[]) => unknown }>()
  return new Proxy(store, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop)
      if (typeof value !== 'function' || typeof prop !== 'string') return value
      const known = wrappers.get(prop)
      if (known?.value === value) return known.wrapper
      const failed = () => metrics.storeError(prop)
      const wrapper = (...args: unknown[]) => {
        try {
          const result: unknown = value.apply(target, args)
          if (result instanceof Promise) result.catch(failed)
          return result
        } catch (err) {
          failed()
          throw err
        }
      }
      wrappers.set(prop, { value, wrapper })
      return wrapper
    },
  })
}
