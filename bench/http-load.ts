/**
 * A small closed-loop HTTPS load generator that runs in a worker thread, so the server under test
 * keeps its own event loop. Keep-alive connections, each sending its next request as soon as the
 * last answer is read. Bounded by count and time; loopback only.
 */
import { inWorker, serveInWorker } from './in-worker.ts'
import https from 'node:https'
import { threadCpuMs } from './thread-cpu.ts'

export interface LoadSpec {
  url: string
  path: string
  method: 'GET' | 'POST'
  headers?: Record<string, string>
  body?: string
  /** Replaced in `body` by a number never sent before on every request (distinct transcripts). */
  counter?: string
  /** The first number put in for `counter` (a later phase starts past the numbers an earlier one sent). @default 0 */
  counterFrom?: number
  connections: number
  durationMs: number
  /** Stops after this many requests too (an instruction count under callgrind wants a fixed number). */
  requests?: number
}

export interface LoadResult {
  requests: number
  perSecond: number
  errors: number
  /** CPU the load generator's own thread spent a request, µs: a client near one core's worth is the bottleneck. */
  clientCpuUs: number
}

async function run(spec: LoadSpec): Promise<LoadResult> {
  const target = new URL(spec.url)
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(target.hostname)) throw new Error('load tests target loopback only')
  const agent = new https.Agent({ keepAlive: true, maxSockets: spec.connections })
  let requests = 0
  let errors = 0
  const start = performance.now()
  const end = start + spec.durationMs
  const cap = spec.requests ?? Number.POSITIVE_INFINITY
  const cpu0 = threadCpuMs()
  let started = 0
  let sent = spec.counterFrom ?? 0
  const one = () =>
    new Promise<void>((resolve) => {
      const req = https.request(
        {
          host: target.hostname,
          port: target.port,
          path: spec.path,
          method: spec.method,
          agent,
          headers: spec.headers,
        },
        (res) => {
          res.resume()
          res.on('end', () => {
            if (res.statusCode !== 200) errors++
            requests++
            resolve()
          })
        },
      )
      req.on('error', () => {
        errors++
        resolve()
      })
      req.end(spec.counter ? spec.body?.replaceAll(spec.counter, String(sent++)) : spec.body)
    })
  await Promise.all(
    Array.from({ length: spec.connections }, async () => {
      while (performance.now() < end && started < cap) {
        started++
        await one()
      }
    }),
  )
  const seconds = (performance.now() - start) / 1000
  const clientCpuUs = ((threadCpuMs() - cpu0) * 1000) / Math.max(1, requests)
  agent.destroy()
  return { requests, perSecond: requests / seconds, errors, clientCpuUs }
}

serveInWorker('load', run)

/** Runs one load phase in a worker thread and returns its figures. */
export const load = (spec: LoadSpec): Promise<LoadResult> => inWorker(import.meta.url, 'load', spec)
