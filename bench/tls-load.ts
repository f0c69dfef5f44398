/**
 * A closed-loop HTTPS load generator that costs its own thread little, for benches that compare a
 * route's throughput with another's (`npm run bench -- auth`: minting against `GET /`).
 *
 * Why not http-load.ts's `https.request`: on two cores the client shares the machine with the server
 * it measures, and `https.request` cost the load generator's thread about as much CPU a request as
 * the server's whole `GET /` (87 against 88 µs at 01:31 on 2026-12-07: an agent, a ClientRequest, an
 * IncomingMessage and its stream, header objects, per request). Then the client, not the server, set
 * both routes' rates, and its core was not there for the server's signatures on the thread pool.
 * Here each connection is a keep-alive `tls.connect` socket that writes the request's bytes,
 * serialised once, and reads the answer with the least parsing that still checks it: the status line,
 * then `Content-Length` bytes of body (a chunked or close-delimited answer is not expected from the
 * routes measured, and counts as an error). The server sees the same requests as from http-load.ts:
 * the same method, path, headers and body, HTTP/1.1 keep-alive, 16 connections. Autocannon would do
 * much the same but is not a dependency, and this is ~100 lines. The same generator serves both routes of a comparison, so their ratio stays fair.
 */
import tls from 'node:tls'
import { inWorker, serveInWorker } from './in-worker.ts'
import type { LoadResult, LoadSpec } from './http-load.ts'
import { threadCpuMs } from './thread-cpu.ts'

const HEAD_END = Buffer.from('\r\n\r\n')

/** The request as bytes on the wire, serialised once per phase (no `counter`: its body would change). */
function requestBytes(spec: LoadSpec, target: URL): Buffer {
  const body = spec.body === undefined ? undefined : Buffer.from(spec.body)
  const lines = [`${spec.method} ${spec.path} HTTP/1.1`, `host: ${target.host}`, 'connection: keep-alive']
  for (const [name, value] of Object.entries(spec.headers ?? {})) lines.push(`${name}: ${value}`)
  if (body) lines.push(`content-length: ${body.length}`)
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`)
  return body ? Buffer.concat([head, body]) : head
}

/** Status and whole length of the answer at the start of `buf`, or undefined until its head is in. */
function answerAt(buf: Buffer): { status: number; length: number } | undefined {
  const headEnd = buf.indexOf(HEAD_END)
  if (headEnd < 0) return undefined
  const head = buf.toString('latin1', 0, headEnd).toLowerCase()
  const at = head.indexOf('\r\ncontent-length:')
  const lineEnd = head.indexOf('\r\n', at + 2)
  const length = at < 0 ? Number.NaN : Number.parseInt(head.slice(at + 17, lineEnd < 0 ? undefined : lineEnd), 10)
  return { status: Number(head.slice(9, 12)), length: headEnd + 4 + length }
}

interface Counts {
  requests: number
  errors: number
}

/** One connection: sends, reads an answer, sends again until `more()` says stop. */
function connection(target: URL, request: Buffer, more: () => boolean, counts: Counts): Promise<void> {
  return new Promise((resolve) => {
    const isName = !/^[\d.[\]:]+$/.test(target.hostname)
    const socket = tls.connect({
      host: target.hostname.replace(/^\[|\]$/g, ''),
      port: Number(target.port),
      ...(isName && { servername: target.hostname }),
    })
    socket.setNoDelay(true)
    let pending: Buffer = Buffer.alloc(0)
    let waiting = false
    const next = () => {
      waiting = more()
      if (waiting) socket.write(request)
      else socket.end()
    }
    socket.once('secureConnect', next)
    socket.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk])
      const answer = answerAt(pending)
      if (!answer || pending.length < answer.length) {
        if (answer && Number.isNaN(answer.length)) socket.destroy(new Error('answer without Content-Length'))
        return
      }
      pending = pending.subarray(answer.length)
      waiting = false
      counts.requests++
      if (answer.status !== 200) counts.errors++
      next()
    })
    socket.on('error', () => {}) // counted on close, if an answer was owed
    socket.on('close', () => {
      if (waiting) counts.errors++
      resolve()
    })
  })
}

async function run(spec: LoadSpec): Promise<LoadResult> {
  const target = new URL(spec.url)
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(target.hostname)) throw new Error('load tests target loopback only')
  if (spec.counter) throw new TypeError('tls-load sends one request, serialised once: use http-load.ts for `counter`')
  const request = requestBytes(spec, target)
  const counts: Counts = { requests: 0, errors: 0 }
  const start = performance.now()
  const end = start + spec.durationMs
  const cap = spec.requests ?? Number.POSITIVE_INFINITY
  let started = 0
  const more = () => performance.now() < end && started++ < cap
  const cpu0 = threadCpuMs()
  await Promise.all(Array.from({ length: spec.connections }, () => connection(target, request, more, counts)))
  const seconds = (performance.now() - start) / 1000
  const clientCpuUs = ((threadCpuMs() - cpu0) * 1000) / Math.max(1, counts.requests)
  return { ...counts, perSecond: counts.requests / seconds, clientCpuUs }
}

serveInWorker('tls-load', run)

/** Runs one load phase in a worker thread and returns its figures. */
export const tlsLoad = (spec: LoadSpec): Promise<LoadResult> => inWorker(import.meta.url, 'tls-load', spec)
