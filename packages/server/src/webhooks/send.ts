import http from 'node:http'
import https from 'node:https'
import type { LookupFunction } from 'node:net'
import { checkedAddresses, DestinationRefused, type DestinationPolicy } from './destination.ts'

/** An attempt that got no answer within this long failed. */
export const DELIVERY_TIMEOUT_MS = 10_000

class DestinationTimeout extends Error {}

export interface SendResult {
  /** The receiver's status code, if it answered. */
  statusCode: number | null
  /** Why the attempt failed; null when the receiver answered 2xx. */
  error: string | null
}

/**
 * One POST of a signed event. The host is resolved and every address checked first, and the
 * connection goes to those checked addresses (the request's `lookup` hands them over), so a name
 * cannot resolve to a public address for the check and a private one for the connection. Redirects
 * are not followed (a 3xx is a failure), and the attempt fails after DELIVERY_TIMEOUT_MS.
 */
export async function sendWebhook(input: {
  url: string
  headers: Record<string, string>
  body: string
  policy: DestinationPolicy
  timeoutMs?: number
}): Promise<SendResult> {
  const url = new URL(input.url)
  const timeoutMs = input.timeoutMs ?? DELIVERY_TIMEOUT_MS
  const deadline = Date.now() + timeoutMs
  let addresses: { address: string; family: number }[]
  let timer: NodeJS.Timeout | undefined
  try {
    // The lookup counts against the attempt's time too: the lease assumes an attempt ends within it.
    addresses = await Promise.race([
      checkedAddresses(url, input.policy),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new DestinationTimeout()), timeoutMs)
      }),
    ])
  } catch (err) {
    if (err instanceof DestinationRefused) return { statusCode: null, error: `refused: ${err.message}` }
    if (err instanceof DestinationTimeout) return { statusCode: null, error: `no answer within ${timeoutMs / 1000} s` }
    throw err
  } finally {
    clearTimeout(timer)
  }
  const lookup: LookupFunction = (_host, options, callback) => {
    const first = addresses[0]!
    if ((options as { all?: boolean }).all) (callback as (e: null, a: typeof addresses) => void)(null, addresses)
    else callback(null, first.address, first.family)
  }
  const client = url.protocol === 'https:' ? https : http
  return new Promise<SendResult>((resolve) => {
    const req = client.request(url, {
      method: 'POST',
      headers: {
        ...input.headers,
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(input.body),
        'user-agent': 'voxgate-webhooks',
      },
      lookup,
      agent: false,
    })
    const answerTimer = setTimeout(
      () => req.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)),
      Math.max(0, deadline - Date.now()),
    )
    const done = (result: SendResult) => {
      clearTimeout(answerTimer)
      resolve(result)
    }
    req.on('error', (err: NodeJS.ErrnoException) => done({ statusCode: null, error: err.code ?? err.message }))
    req.on('response', (res) => {
      // Only the status counts: the answer's body is never read, and the connection ends here.
      const status = res.statusCode ?? 0
      res.on('error', () => undefined)
      res.destroy()
      if (status >= 200 && status < 300) done({ statusCode: status, error: null })
      else if (status >= 300 && status < 400)
        done({ statusCode: status, error: `HTTP ${status}: redirects are not followed` })
      else done({ statusCode: status, error: `HTTP ${status}` })
    })
    req.end(input.body)
  })
}
