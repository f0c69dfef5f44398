/**
 * Where a mint's server-thread time goes, sampled by Linux `perf` (software clock: this VM has no
 * hardware counters) instead of V8's sampler: perf sees every native frame (OpenSSL, V8's GC and
 * runtime, libuv, the kernel's TCP path), where V8's profiler charges all native work to the last
 * JavaScript-visible call. The server's main thread only (`-t`); the load generator's worker is left
 * out. `npm run bench -- perf-mint` runs it with node's perf map, so JIT frames have names (root, or
 * `kernel.perf_event_paranoid` ≤ 1 for the kernel's frames).
 *
 * PERF_MS sets a phase's length, PERF_OUT the folder for perf.data files (one per phase), ROUTES the
 * phases (`get,mint` by default, or `METHOD /path [+key]` items as bench/route-cpu.ts takes; a route
 * may come back: `get,mint,get,mint`, the last file of each is kept), TREE another checkout's server. At the end, a table of where each phase's thread time went (bench/perf-categories.ts),
 * in µs a request: perf's period is PERF_PERIOD ns of the thread's CPU (250 µs by default; perf's own
 * cost inflates every figure, so read the differences). PERF_EVENT samples another event instead (e.g.
 * `raw_syscalls:sys_enter` with PERF_PERIOD=1: every system call, with its stack), PERF_STAT counts
 * events with `perf stat` (e.g. `context-switches,page-faults`).
 */
import { execFileSync, spawn } from 'node:child_process'
import { mkdirSync, readdirSync } from 'node:fs'
import path from 'node:path'
import type { TestServer } from '../packages/server/test/helpers/server.ts'
import { mintSpecs } from './auth.ts'
import { load, type LoadSpec } from './http-load.ts'
import { breakdown, table, type Breakdown } from './perf-categories.ts'
import { threadCpuMs } from './thread-cpu.ts'

const PHASE_MS = Number(process.env.PERF_MS ?? 4000)
const OUT = path.resolve(process.env.PERF_OUT ?? 'bench-profiles/perf')
const ROUTES = (process.env.ROUTES ?? 'get,mint').split(',')
mkdirSync(OUT, { recursive: true })

// TREE: another checkout's server (e.g. a copy with bench-only routes for an ablation).
const TREE = path.resolve(process.env.TREE ?? path.join(import.meta.dirname, '..'))
const { startTestServer } = (await import(`${TREE}/packages/server/test/helpers/server.ts`)) as {
  startTestServer: (o: object) => Promise<TestServer>
}
const t = await startTestServer({ logLevel: 'silent', mintPerMinute: 0, ttsStreamsPerMinute: 0 })
const common = { url: t.url, connections: 16, durationMs: PHASE_MS }
/** `get`, `mint`, or `METHOD /path` (`+key`: with the API key; a POST sends the mint's body), as bench/route-cpu.ts. */
function specOf(name: string): LoadSpec {
  const known = specs[name]
  if (known) return known
  const [method, routePath, key] = name.split(/\s+/) as ['GET' | 'POST', string, string | undefined]
  const headers: Record<string, string> = {}
  if (key === '+key') headers.authorization = `Bearer ${t.apiKey}`
  if (method === 'POST') headers['content-type'] = 'application/json'
  return { ...common, method, path: routePath, headers, ...(method === 'POST' && { body: specs.mint!.body! }) }
}
const { status, mint } = mintSpecs(t, PHASE_MS)
const specs: Record<string, LoadSpec> = { get: status, mint }

/** perf on this thread only, until `stop` resolves; returns when perf has written its file. */
async function recorded<T>(file: string, run: () => Promise<T>): Promise<T> {
  // PERF_STAT: `perf stat` of these events instead (context switches, system calls, page faults...).
  const stat = process.env.PERF_STAT
  const args = stat
    ? ['stat', '-e', stat, '-t', String(process.pid), '-o', `${file}.stat`]
    : [
        'record',
        '-q',
        '-e',
        process.env.PERF_EVENT ?? 'cpu-clock',
        '-c',
        process.env.PERF_PERIOD ?? '250000',
        '-g',
      ].concat(['-t', String(process.pid), '-o', file])
  const perf = spawn('perf', args, { stdio: 'inherit' })
  await new Promise((r) => setTimeout(r, 300)) // perf attaches
  try {
    return await run()
  } finally {
    const exited = new Promise((r) => perf.once('exit', r))
    perf.kill('SIGINT')
    await exited
  }
}

/**
 * PIN=1 (an experiment, not the bench): this thread on CPU 0, every other thread of the process (the
 * load generator's worker, V8's and libuv's helpers) on CPU 1, so the client never runs on the
 * server's core between its requests.
 */
function pinThreads(): void {
  for (const tid of readdirSync('/proc/self/task'))
    execFileSync('taskset', ['-pc', tid === String(process.pid) ? '0' : '1', tid], { stdio: 'ignore' })
}

const sampled = !process.env.PERF_STAT && !process.env.PERF_EVENT
const phases: [string, Breakdown][] = []
try {
  for (const name of ROUTES) await load({ ...specOf(name), durationMs: 1500 }) // JIT, connections
  for (const name of ROUTES) {
    const file = path.join(OUT, `${name.replace(/[^a-z0-9]+/gi, '_')}.data`)
    const cpu0 = threadCpuMs()
    if (process.env.PIN) setTimeout(pinThreads, 200)
    const r = await recorded(file, () => load(specOf(name)))
    const cpuMs = threadCpuMs() - cpu0
    console.log(
      `${name}: ${r.requests} requests, ${r.perSecond.toFixed(0)}/s, server thread ${((cpuMs * 1000) / r.requests).toFixed(1)} µs CPU a request, errors ${r.errors}; ${file}`,
    )
    if (sampled) phases.push([name, breakdown(file, r.requests, Number(process.env.PERF_PERIOD ?? 250000))])
  }
} finally {
  await t.close()
}
if (phases.length > 0) console.log(`\n${table(phases)}`)
