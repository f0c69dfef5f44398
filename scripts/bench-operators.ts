/**
 * `npm run bench -- operators` (issue 14, item 8): what the usage ledger and the metrics cost.
 *
 * "On" is the server as it ships with `metrics: true`: prom-client counters and histograms on every
 * request, the metered store, and the usage ledger written by each stream's settlement. "Off" is
 * `metrics: false` on a store whose ledger writes are dropped: a SQLite store in a temp folder behind
 * a wrapper (below, bench-only) whose `settleUsage` applies only the refund part and whose
 * `recordRefusal` does nothing. Nothing in production code knows about it. Each side is a server in
 * a child process of its own; the load comes from a worker thread of this process.
 *
 * Two workloads, each as on/off throughput in interleaved rounds:
 * - mint: POST /access-token with an API key, 16 keep-alive connections;
 * - tts: POST /tts/bytes of a short transcript with the API key, 8 connections, on the deterministic
 *   engine running inline on the server's thread. A real engine's synthesis would dominate each
 *   request and hide the bookkeeping; with the cheap engine, every stream's ledger write (one SQLite
 *   transaction) and metrics (open streams, time to first audio, duration, characters) is a large
 *   part of the request, so their cost is as visible as it gets (a worst case).
 * A round is on/off/off/on or off/on/on/off (alternating) after an unmeasured lead-in; its ratio is
 * the mean of the two "on" phases over the mean of the two "off" ones. Printed per workload: the
 * median of the per-round ratios and their spread (min–max). The machine is shared and noisy, so only
 * ratios from the same run mean anything. Target: median ≥ 0.97, reported, never enforced.
 * `npm run bench -- operators-aa` runs the same with "off" on both sides, to show the bench's own
 * bias and noise (ratios should centre on 1.00); `operators-real` runs it with the real engines in
 * worker threads, what production runs. Loopback only; about 80 s each.
 */
import { fork } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import https from 'node:https'
import { loadavg, tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { isMainThread } from 'node:worker_threads'
import { createLogger } from '../packages/server/src/logger.ts'
import { openStore } from '../packages/server/src/store/open.ts'
import { voiceIds, ttsBody } from '../packages/server/test/helpers/security.ts'
import { startTestServer, type TestServer } from '../packages/server/test/helpers/server.ts'
import { inWorker, serveInWorker } from '../bench/in-worker.ts'
import { withoutLedger } from '../bench/without-ledger.ts'

const ROUNDS = 10
const PHASE_MS = 750
const LEAD_IN_MS = 250
const WARMUP_MS = 1000
const TARGET = 0.97

const fmt = (n: number, d = 2) => n.toFixed(d)
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

type SideName = 'on' | 'off'

/** A server under test, in a process of its own (see `serve`). */
interface Side {
  name: SideName
  /** The server's process, whose CPU time each phase reads (/proc). */
  pid: number
  url: string
  apiKey: string
  voice: string
  /** Ledger rows written today, and whether the metrics listener is open. */
  check(): Promise<{ ledgerRows: number; metrics: boolean }>
  close(): Promise<void>
}

/** `operators-real` sets this before the sides are forked (they inherit it): the real engines in worker threads. */
const ENGINE = process.env.VOXGATE_BENCH_ENGINE === 'real' ? 'real' : 'deterministic'
const base = { logLevel: 'silent' as const, mintPerMinute: 0, ttsStreamsPerMinute: 0, speech: ENGINE } as const

/** Starts one side's server in this process: "on" as it ships with metrics, "off" as described above. */
async function startSide(name: SideName): Promise<{ t: TestServer; close(): Promise<void> }> {
  const logger = createLogger('silent')
  if (name === 'on') {
    const t = await startTestServer({ ...base, metrics: true, metricsPort: 0 }, { logger })
    return { t, close: () => t.close() }
  }
  const storeDir = mkdtempSync(path.join(tmpdir(), 'voxgate-bench-store-'))
  const store = await openStore({ dataDir: storeDir })
  const t = await startTestServer({ ...base, metrics: false }, { logger, store: withoutLedger(store) })
  return {
    t,
    async close() {
      await t.close()
      await store.close()
      rmSync(storeDir, { recursive: true, force: true })
    },
  }
}

/**
 * The child process's side: each server runs in a process of its own, so the two never share a heap,
 * a JIT or an event loop (in one process, the server started first ran ~10 % faster than an identical
 * second one in an A/A run). Answers `check` and `close` over IPC.
 */
async function serve(name: SideName): Promise<void> {
  const { t, close } = await startSide(name)
  const [voice] = (await voiceIds(t.url, t.apiKey, 1)) as [string]
  process.on('message', async (m: string) => {
    if (m === 'check') {
      const today = new Date().toISOString().slice(0, 10)
      const ledgerRows = (await t.server.ctx.store.queryUsage({ from: today, to: today })).length
      process.send!({ ledgerRows, metrics: t.server.metricsUrl !== undefined })
    } else if (m === 'close') {
      await close()
      process.exit(0)
    }
  })
  process.send!({ url: t.url, apiKey: t.apiKey, voice })
}

/** Forks this file as `--serve <config>`; `name` is how the bench labels it (A/A runs two "off"). */
async function startProcess(name: SideName, config: SideName): Promise<Side> {
  const child = fork(fileURLToPath(import.meta.url), ['--serve', config], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  // Never leave a server behind if the bench fails.
  process.once('exit', () => child.kill())
  const next = <T>() =>
    new Promise<T>((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`the ${config} server exited (${code})`))
      child.once('exit', onExit)
      child.once('message', (m) => {
        child.off('exit', onExit)
        resolve(m as T)
      })
    })
  const ready = await next<{ url: string; apiKey: string; voice: string }>()
  return {
    name,
    pid: child.pid!,
    ...ready,
    async check() {
      const answer = next<{ ledgerRows: number; metrics: boolean }>()
      child.send('check')
      return answer
    },
    async close() {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.send('close')
      await exited
    },
  }
}

/** One request shape against one server, sent over `connections` keep-alive connections. */
interface Target {
  /** The server's process (its CPU time is read around each phase). */
  pid: number
  url: string
  path: string
  headers: Record<string, string>
  body: string
  connections: number
}

/** Phases run back to back in one worker: target index and duration. */
interface Schedule {
  targets: Target[]
  phases: Phase[]
}

/** `round` is -1 for phases not measured (warm-up, lead-ins). */
interface Phase {
  target: number
  ms: number
  round: number
}

/**
 * The load generator (a worker thread, so the servers keep their event loop): like bench/http-load.ts,
 * closed-loop keep-alive HTTPS, but it runs a whole schedule of short phases against several targets
 * without a worker start or a TLS handshake between them, so on and off can alternate every second.
 * Returns requests per second per phase, and the count of non-200 answers and failed requests.
 */
async function runSchedule(schedule: Schedule): Promise<PhaseFigures> {
  const agents = schedule.targets.map((t) => {
    if (!['127.0.0.1', 'localhost', '[::1]'].includes(new URL(t.url).hostname))
      throw new Error('load tests target loopback only')
    return new https.Agent({ keepAlive: true, maxSockets: t.connections })
  })
  let errors = 0
  const perSecond: number[] = []
  const cpu: { main: number; all: number }[] = []
  for (const phase of schedule.phases) {
    const t = schedule.targets[phase.target]!
    const target = new URL(t.url)
    let requests = 0
    const one = () =>
      new Promise<void>((resolve) => {
        const req = https.request(
          {
            host: target.hostname,
            port: target.port,
            path: t.path,
            method: 'POST',
            agent: agents[phase.target],
            headers: t.headers,
          },
          (res) => {
            res.resume()
            res.on('end', () => {
              if (res.statusCode === 200) requests++
              else errors++
              resolve()
            })
          },
        )
        req.on('error', () => {
          errors++
          resolve()
        })
        req.end(t.body)
      })
    const cpu0 = serverCpuMs(t.pid)
    const start = performance.now()
    const end = start + phase.ms
    await Promise.all(
      Array.from({ length: t.connections }, async () => {
        while (performance.now() < end) await one()
      }),
    )
    perSecond.push(requests / ((performance.now() - start) / 1000))
    const cpu1 = serverCpuMs(t.pid)
    cpu.push({ main: ((cpu1.main - cpu0.main) * 1000) / requests, all: ((cpu1.all - cpu0.all) * 1000) / requests })
  }
  for (const a of agents) a.destroy()
  return { perSecond, cpu, errors }
}

/** Requests per second per phase, and the server's CPU µs per request (main thread; all its threads). */
interface PhaseFigures {
  perSecond: number[]
  cpu: { main: number; all: number }[]
  errors: number
}

/**
 * CPU time a server process has run, in ms (Linux schedstat: nanoseconds on a CPU): its main thread,
 * and all its threads (V8's collector and compiler threads, and any thread work was moved to). Unlike
 * throughput, it barely grows while other processes hold the cores, so it shows a few µs per stream.
 */
function serverCpuMs(pid: number): { main: number; all: number } {
  const ms = (task: string) => {
    try {
      return Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]) / 1e6
    } catch {
      return 0 // a thread that ended between the listing and the read
    }
  }
  return { main: ms(String(pid)), all: readdirSync(`/proc/${pid}/task`).reduce((n, task) => n + ms(task), 0) }
}

serveInWorker('operators-schedule', runSchedule)
const schedule = (s: Schedule) => inWorker<Schedule, PhaseFigures>(import.meta.url, 'operators-schedule', s)

type Workload = { name: string; target: (s: Side) => Target }

const json = (credential: string) => ({ authorization: `Bearer ${credential}`, 'content-type': 'application/json' })
const TRANSCRIPT = 'Hello there, how are you?'

const WORKLOADS: Workload[] = [
  {
    name: 'mint (POST /access-token with an API key, 16 connections)',
    target: (s) => ({
      pid: s.pid,
      url: s.url,
      path: '/access-token',
      headers: json(s.apiKey),
      connections: 16,
      body: JSON.stringify({ grants: { tts: true }, expires_in: 60 }),
    }),
  },
  {
    name: `tts  (POST /tts/bytes "${TRANSCRIPT}" with an API key, ${ENGINE === 'real' ? 'the real engines in worker threads (what production runs)' : 'deterministic engine'}, 8 connections)`,
    target: (s) => ({
      pid: s.pid,
      url: s.url,
      path: '/tts/bytes',
      headers: json(s.apiKey),
      connections: 8,
      body: JSON.stringify(ttsBody(s.voice, TRANSCRIPT)),
    }),
  },
]

/** `aa`: both sides "off", to see the bench's own bias (expect ratios around 1.00). */
export async function operatorsSection(aa = false): Promise<void> {
  console.log(`\n## operators: usage ledger + metrics on vs off${aa ? ' (A/A check: both sides off)' : ''}`)
  console.log(
    `load average at start: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  )
  console.log(
    `${ROUNDS} interleaved rounds per workload, each on/off/off/on or off/on/on/off (alternating) with ${PHASE_MS / 1000} s phases; the machine is shared and noisy, so read the ratios`,
  )
  const [on, off] = await Promise.all([startProcess('on', aa ? 'off' : 'on'), startProcess('off', 'off')])
  try {
    // Targets: workload w against on is 2w, against off 2w + 1.
    const sides = [on, off]
    const targets = WORKLOADS.flatMap((w) => sides.map((s) => w.target(s)))
    const warmup: Phase[] = targets.map((_, target) => ({ target, ms: WARMUP_MS, round: -1 }))
    // Round r, for each workload: a short unmeasured lead-in (the first phase after switching
    // workloads pays for the switch), then on, off, off, on (even rounds) or off, on, on, off (odd
    // rounds), so neither side profits from going first or from a drift within the round.
    const phases: Phase[] = [...warmup]
    for (let r = 0; r < ROUNDS; r++) {
      for (let w = 0; w < WORKLOADS.length; w++) {
        const order = r % 2 === 0 ? [0, 1, 1, 0] : [1, 0, 0, 1]
        phases.push({ target: 2 * w + order[0]!, ms: LEAD_IN_MS, round: -1 })
        for (const side of order) phases.push({ target: 2 * w + side, ms: PHASE_MS, round: r })
      }
    }
    const { perSecond, cpu, errors } = await schedule({ targets, phases })

    // The ledger must really be written on "on" and dropped on "off", or the comparison means nothing.
    const [onState, offState] = await Promise.all([on.check(), off.check()])
    if (!aa && (onState.ledgerRows === 0 || !onState.metrics))
      throw new Error('"on" wrote no ledger row or has no metrics')
    if (offState.ledgerRows !== 0 || offState.metrics) throw new Error('"off" wrote a ledger row or has metrics')

    const measured = phases
      .map((p, i) => ({ ...p, perSecond: perSecond[i]!, cpu: cpu[i]! }))
      .filter((p) => p.round >= 0)
    for (const [w, workload] of WORKLOADS.entries()) {
      // Each side's rate in a round: the mean of its two phases (equal durations).
      const rate = (side: number, r: number) =>
        median(measured.filter((p) => p.round === r && p.target === 2 * w + side).map((p) => p.perSecond))
      const rounds = Array.from({ length: ROUNDS }, (_, r) => r)
      const onRates = rounds.map((r) => rate(0, r))
      const offRates = rounds.map((r) => rate(1, r))
      const ratios = onRates.map((x, r) => x / offRates[r]!)
      const m = median(ratios)
      console.log(workload.name)
      console.log(`  on ${fmt(median(onRates), 0)} req/s, off ${fmt(median(offRates), 0)} req/s (medians over rounds)`)
      // CPU per request: each side's mean over its two phases of a round, then the per-round difference.
      const cpuOf = (side: number, r: number, of: 'main' | 'all') => {
        const xs = measured.filter((p) => p.round === r && p.target === 2 * w + side).map((p) => p.cpu[of])
        return xs.reduce((a, b) => a + b, 0) / xs.length
      }
      for (const of of ['main', 'all'] as const) {
        const onCpu = rounds.map((r) => cpuOf(0, r, of))
        const offCpu = rounds.map((r) => cpuOf(1, r, of))
        const extra = onCpu.map((x, r) => x - offCpu[r]!)
        const share = onCpu.map((x, r) => offCpu[r]! / x)
        console.log(
          `  server CPU per request (${of === 'main' ? 'main thread' : 'all threads'}): on ${fmt(median(onCpu), 0)} µs, off ${fmt(median(offCpu), 0)} µs; on − off median ${fmt(median(extra), 1)} µs (${fmt(Math.min(...extra), 1)}–${fmt(Math.max(...extra), 1)}), off/on ${fmt(median(share))}`,
        )
      }
      console.log(
        `  on/off ratio: median ${fmt(m)}, spread ${fmt(Math.min(...ratios))}–${fmt(Math.max(...ratios))} over ${ratios.length} rounds [${ratios.map((x) => fmt(x)).join(' ')}]; target median ≥ ${TARGET}: ${m >= TARGET ? 'met' : 'not met'}`,
      )
    }
    console.log(`non-200 answers or failed requests: ${errors}`)
  } finally {
    await Promise.all([on.close(), off.close()])
  }
}

const args = process.argv.slice(2)
const serving = args.indexOf('--serve')
if (isMainThread && serving >= 0) await serve(args[serving + 1] as SideName)
else if (isMainThread) {
  const SECTIONS = ['operators', 'operators-aa', 'operators-real']
  if (args.includes('operators') || args.length === 0) await operatorsSection()
  if (args.includes('operators-aa')) await operatorsSection(true)
  if (args.includes('operators-real')) {
    // Same bench with production's engines: what the bookkeeping costs where synthesis is real work.
    process.env.VOXGATE_BENCH_ENGINE = 'real'
    const child = fork(fileURLToPath(import.meta.url), ['operators'], { stdio: 'inherit' })
    await new Promise((resolve) => child.once('exit', resolve))
  }
  // Other sections named with it (`npm run bench -- operators auth`) run from the usual runner, which
  // ignores these names.
  if (args.some((a) => !SECTIONS.includes(a))) await import('../bench/run.ts')
}
