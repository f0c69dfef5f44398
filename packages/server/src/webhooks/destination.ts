import { lookup as dnsLookup } from 'node:dns/promises'
import { isIP } from 'node:net'
import { addressRefusal } from './addresses.ts'

/** Resolves a host name to every address it has (tests may pass their own). */
export type Resolve = (hostname: string) => Promise<{ address: string; family: number }[]>

export const systemResolve: Resolve = (hostname) => dnsLookup(hostname, { all: true, verbatim: true })

/** A webhook URL's host refused, with the reason. */
export class DestinationRefused extends Error {}

export interface DestinationPolicy {
  /** `--webhook-allow-private`: private and loopback addresses, and `http://`, allowed (never cloud metadata). */
  allowPrivate: boolean
  resolve?: Resolve
}

/** The host of a URL as an IP literal or a name (`[::1]` → `::1`). */
export const hostOf = (url: URL): string => url.hostname.replace(/^\[(.*)\]$/, '$1')

/** Why `url` may not be a webhook before any lookup (scheme, credentials), or undefined. */
export function urlRefusal(url: URL, policy: DestinationPolicy): string | undefined {
  if (url.protocol !== 'https:' && !(policy.allowPrivate && url.protocol === 'http:'))
    return 'a webhook URL must be https://'
  if (url.username !== '' || url.password !== '') return 'a webhook URL must not hold a user name or password'
  return undefined
}

/**
 * Every address the URL's host has, each checked; throws DestinationRefused when any is refused (a
 * name with one private address among public ones is refused: which one a connection would take is
 * not ours to choose). The caller connects to these very addresses, never looking the name up again.
 */
export async function checkedAddresses(
  url: URL,
  policy: DestinationPolicy,
): Promise<{ address: string; family: number }[]> {
  const early = urlRefusal(url, policy)
  if (early) throw new DestinationRefused(early)
  const host = hostOf(url)
  const family = isIP(host)
  const addresses =
    family !== 0
      ? [{ address: host, family }]
      : await (policy.resolve ?? systemResolve)(host).catch((err: unknown) => {
          throw new DestinationRefused(`${host} does not resolve (${(err as NodeJS.ErrnoException).code ?? 'error'})`)
        })
  if (addresses.length === 0) throw new DestinationRefused(`${host} does not resolve`)
  for (const a of addresses) {
    const refusal = addressRefusal(a.address, policy)
    if (refusal) throw new DestinationRefused(family !== 0 ? refusal : `${host} resolves to ${refusal}`)
  }
  return addresses
}
