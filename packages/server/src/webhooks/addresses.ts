import { BlockList, isIPv4, isIPv6 } from 'node:net'

/**
 * Addresses a webhook may not reach unless private ones are allowed (`--webhook-allow-private`):
 * this host, private networks, link-local, carrier-grade NAT, multicast and the reserved ranges. A
 * webhook URL is chosen by whoever holds an admin key; without this, it would be a way to make the
 * server call into the network it runs in.
 */
const PRIVATE = new BlockList()
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  PRIVATE.addSubnet(net, bits, 'ipv4')
for (const [net, bits] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  PRIVATE.addSubnet(net, bits, 'ipv6')

/** Cloud metadata services: refused always, private addresses allowed or not. */
const METADATA = new BlockList()
METADATA.addAddress('169.254.169.254', 'ipv4')
METADATA.addAddress('fd00:ec2::254', 'ipv6')

/** The 8 groups of an IPv6 address (a dotted IPv4 tail included), or undefined. */
function ipv6Groups(address: string): number[] | undefined {
  let text = address.toLowerCase()
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)
  if (dotted) {
    const [a, b, c, d] = dotted[1]!.split('.').map(Number) as [number, number, number, number]
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const [head, tail] = text.split('::') as [string, string | undefined]
  const part = (s: string | undefined) => (s ? s.split(':').map((g) => Number.parseInt(g, 16)) : [])
  const h = part(head)
  const t = part(tail)
  const groups = tail === undefined ? h : [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t]
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : undefined
}

/** An IPv4 address carried in IPv6 (`::ffff:a.b.c.d`, or NAT64 `64:ff9b::a.b.c.d`) as IPv4; others unchanged. */
function unwrap(address: string): { address: string; type: 'ipv4' | 'ipv6' } | undefined {
  if (isIPv4(address)) return { address, type: 'ipv4' }
  if (!isIPv6(address)) return undefined
  const g = ipv6Groups(address)
  if (!g) return undefined
  const mapped = g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff
  const nat64 = g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)
  if (mapped || nat64) {
    const v4 = [g[6]! >> 8, g[6]! & 0xff, g[7]! >> 8, g[7]! & 0xff].join('.')
    return { address: v4, type: 'ipv4' }
  }
  return { address, type: 'ipv6' }
}

/**
 * Why a webhook may not connect to `address` (an IP literal), or undefined when it may. Anything
 * that is not an IP address is refused.
 */
export function addressRefusal(address: string, options: { allowPrivate: boolean }): string | undefined {
  const ip = unwrap(address)
  if (!ip) return `${address} is not an IP address`
  if (METADATA.check(ip.address, ip.type)) return `${address} is a cloud metadata address`
  if (!options.allowPrivate && PRIVATE.check(ip.address, ip.type))
    return `${address} is a private, loopback or link-local address`
  return undefined
}
