/**
 * A proxy of `target` whose methods are replaced by `wrap(method, name)`. Each wrapper is made once
 * per method and kept (a store's methods do not change), not once per access: the store is called on
 * every request's path (an API key's check reads its change counter), through three such proxies.
 */
export function wrapMethods<T extends object>(
  target: T,
  wrap: (method: (...args: unknown[]) => unknown, name: string) => unknown,
): T {
  const made = new Map<string, { method: unknown; wrapper: unknown }>()
  return new Proxy(target, {
    get(t, prop) {
      const value: unknown = Reflect.get(t, prop)
      if (typeof value !== 'function' || typeof prop !== 'string') return value
      const known = made.get(prop)
      if (known !== undefined && known.method === value) return known.wrapper
      const wrapper = wrap(value as (...args: unknown[]) => unknown, prop)
      made.set(prop, { method: value, wrapper })
      return wrapper
    },
  })
}
