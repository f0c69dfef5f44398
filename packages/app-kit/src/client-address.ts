/**
 * The peer address of each request, as the adapter saw it. A web `Request` has no such field, so the
 * adapters record it here (never in a header, which a client could forge) and the app reads it back.
 */
const addresses = new WeakMap<Request, string>()

/** Records `request`'s client address (adapters call this). Returns the request. */
export function withClientAddress(request: Request, address: string | undefined): Request {
  if (address) addresses.set(request, address)
  return request
}

/**
 * The client address an adapter recorded for `request` (the socket's peer, or Fastify's / Express's
 * `ip`, which honours their own `trustProxy` setting), or undefined.
 * @example const ip = clientAddress(request) ?? 'unknown'
 */
export function clientAddress(request: Request): string | undefined {
  return addresses.get(request)
}

/**
 * A throttling key for an address: IPv4 as is (also when IPv4-mapped), IPv6 by its /64 prefix,
 * since one host usually holds a whole /64 and could otherwise rotate through it.
 * @example addressKey('2001:db8:1:2:aaaa::1') // '2001:db8:1:2::/64'
 */
export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address)
  if (mapped) return mapped[1]!
  if (!address.includes(':')) return address
  const [head = '', tail = ''] = address.toLowerCase().split('%')[0]!.split('::')
  const left = head ? head.split(':') : []
  const right = tail ? tail.split(':') : []
  const groups = address.includes('::')
    ? [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right]
    : left
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`
}
