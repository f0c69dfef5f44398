/**
 * `npm run bench -- profile-gateway`: where the "on" gateway of `gateway-overhead` (breaker, 64 MB TTS
 * cache, `--fallback local`) spends its thread's time on `POST /tts/bytes` with distinct transcripts,
 * against "off" (no cache, no fallback, no breaker). The upstream runs in a process of its own; both
 * gateways run in this process, the load in a worker thread, so this thread's CPU time (from /proc:
 * other processes' load does not count) is the gateway's alone. Interleaved rounds; each sample is put
 * in the file of the innermost frame from packages/server/src (Node's and the libraries' frames count
 * for the voxgate code that called them), turned into microseconds per request by the thread's CPU
 * time, and the functions whose own time differs most are listed. The last round's profiles go to
 * bench-profiles/. PROFILE_MS sets a round's length, PROFILE_ROUNDS their number.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { Session, type Profiler } from 'node:inspector/promises'
import { constants, PerformanceObserver } from 'node:perf_hooks'
import { createLogger } from '../packages/server/src/logger.ts'
import { mint } from '../packages/server/test/helpers/http.ts'
import { startTestServer } from '../packages/server/test/helpers/server.ts'
import { startProcess } from './gateway-overhead.ts'
import { load, type LoadSpec } from './http-load.ts'
import { threadCpuMs } from './thread-cpu.ts'

const SIDES = ['on', 'off'] as const
type Side = (typeof SIDES)[number]
/** A voxgate server module's URL, and its path under src/. */
const SRC = /packages\/server\/src\/(.*)$/

type CallFrame = Profiler.ProfileNode['callFrame']

interface Round {
  side: Side
  requests: number
  errors: number
  cpuMs: number
  /** Milliseconds of garbage collection in the round, by kind (major: mark-compact). */
  gcMs: { minor: number; major: number; other: number }
  profile: Profiler.Profile
}

/** Garbage collections as they happen (this thread: both gateways'), summed per round below. */
const gcs: { kind: 'minor' | 'major' | 'other'; ms: number }[] = []
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const kind = (e as PerformanceEntry & { detail: { kind: number } }).detail.kind
    const name =
      kind === constants.NODE_PERFORMANCE_GC_MINOR
        ? 'minor'
        : kind === constants.NODE_PERFORMANCE_GC_MAJOR
          ? 'major'
          : 'other'
    gcs.push({ kind: name, ms: e.duration })
  }
}).observe({ entryTypes: ['gc'] })

console.log(`load average at the start ${loadavg()[0]!.toFixed(2)}`)
const upstream = await startProcess('upstream')
const base = { logLevel: 'silent' as const, mintPerMinute: 0, ttsStreamsPerMinute: 0 }
const relay = { upstreamUrl: upstream.url, upstreamApiKey: upstream.apiKey }
const opts = { logger: createLogger('silent') }
const on = await startTestServer({ ...base, ...relay, ttsCacheMb: 64, fallback: 'local' }, opts)
const off = await startTestServer({ ...base, ...relay }, opts)
// As gateway-overhead's "off": the relay calls the upstream directly.
;(off.server.ctx as { circuit?: unknown }).circuit = undefined
const session = new Session()
session.connect()
try {
  const spec = async (t: typeof on): Promise<LoadSpec> => ({
    url: t.url,
    path: '/tts/bytes',
    method: 'POST',
    connections: 8,
    durationMs: Number(process.env.PROFILE_MS ?? 3000),
    counter: '#N#',
    headers: {
      authorization: `Bearer ${await mint(t.url, t.apiKey, { grants: { tts: true }, expires_in: 3600, sub: 'bench' })}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify({
      model_id: 'sonic-3',
      transcript: 'Hello there, this is request #N#.',
      voice: { mode: 'id', id: upstream.voice },
      output_format: { container: 'raw', encoding: 'pcm_s16le', sample_rate: 24000 },
    }),
  })
  const specs: Record<Side, LoadSpec> = { on: await spec(on), off: await spec(off) }
  // Every phase starts past the numbers sent before, so each request of "on" is a cache miss.
  let counterFrom = 0
  const run = async (side: Side, durationMs = specs[side].durationMs) => {
    const r = await load({ ...specs[side], durationMs, counterFrom })
    counterFrom += 1e6
    return r
  }
  for (const side of SIDES) await run(side, 1500) // warm-up: JIT, connections
  await session.post('Profiler.enable')
  await session.post('Profiler.setSamplingInterval', { interval: 200 })
  const rounds: Round[] = []
  for (let i = 0; i < Number(process.env.PROFILE_ROUNDS ?? 4); i++) {
    for (const side of i % 2 === 0 ? SIDES : [...SIDES].reverse()) {
      await session.post('Profiler.start')
      const cpu0 = threadCpuMs()
      gcs.length = 0
      const r = await run(side)
      const cpuMs = threadCpuMs() - cpu0
      const gcMs = { minor: 0, major: 0, other: 0 }
      for (const g of gcs) gcMs[g.kind] += g.ms
      const { profile } = await session.post('Profiler.stop')
      rounds.push({ side, requests: r.requests, errors: r.errors, cpuMs, gcMs, profile })
    }
  }
  report(rounds)
  mkdirSync('bench-profiles', { recursive: true })
  for (const r of rounds.slice(-2))
    writeFileSync(`bench-profiles/gateway-${r.side}.cpuprofile`, JSON.stringify(r.profile))
  console.log(`load average at the end ${loadavg()[0]!.toFixed(2)}`)
} finally {
  session.disconnect()
  await Promise.all([on.close(), off.close()])
  await upstream.close()
}

function report(rounds: Round[]): void {
  const perRequest = (side: Side, by: (p: Profiler.Profile) => Map<string, number>) => {
    const mine = rounds.filter((r) => r.side === side)
    const requests = mine.reduce((n, r) => n + r.requests, 0)
    const sum = new Map<string, number>()
    for (const r of mine)
      for (const [k, share] of by(r.profile)) sum.set(k, (sum.get(k) ?? 0) + (share * r.cpuMs * 1000) / requests)
    return sum
  }
  for (const side of SIDES) {
    const mine = rounds.filter((r) => r.side === side)
    const perRound = mine.map((r) => ((r.cpuMs * 1000) / r.requests).toFixed(0))
    const errors = mine.reduce((n, r) => n + r.errors, 0)
    const reqs = mine.map((r) => r.requests)
    console.log(
      `${side}: thread CPU µs/request per round [${perRound.join(' ')}], requests [${reqs}], errors ${errors}`,
    )
    const gc = (k: keyof Round['gcMs']) => mine.map((r) => ((r.gcMs[k] * 1000) / r.requests).toFixed(0)).join(' ')
    console.log(`  GC µs/request per round: minor [${gc('minor')}], major [${gc('major')}], other [${gc('other')}]`)
  }
  table('by voxgate file (innermost frame in packages/server/src)', perRequest('on', byFile), perRequest('off', byFile))
  table('by function, own time', perRequest('on', bySelf), perRequest('off', bySelf), 30)
}

function table(title: string, a: Map<string, number>, b: Map<string, number>, top = 40): void {
  console.log(`\n${title}: µs per request, on, off, on − off`)
  const rows = [...new Set([...a.keys(), ...b.keys()])]
    .map((k) => [k, a.get(k) ?? 0, b.get(k) ?? 0] as const)
    .sort((x, y) => Math.abs(y[1] - y[2]) - Math.abs(x[1] - x[2]) || y[1] - x[1])
  for (const [k, x, y] of rows.slice(0, top))
    console.log(
      `${k.slice(0, 90).padEnd(90)} ${x.toFixed(1).padStart(7)} ${y.toFixed(1).padStart(7)} ${(x - y).toFixed(1).padStart(7)}`,
    )
  const total = (m: Map<string, number>) => [...m.values()].reduce((s, v) => s + v, 0)
  console.log(
    `${'total'.padEnd(90)} ${total(a).toFixed(1).padStart(7)} ${total(b).toFixed(1).padStart(7)} ${(total(a) - total(b)).toFixed(1).padStart(7)}`,
  )
}

/** Shares of busy samples, keyed by `key(leaf id)`; idle and the profiler's own excluded. */
function shares(profile: Profiler.Profile, key: (stack: CallFrame[]) => string): Map<string, number> {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const time = new Map<string, number>()
  let busy = 0
  profile.samples?.forEach((leaf, i) => {
    const dt = profile.timeDeltas?.[i] ?? 0
    const stack: CallFrame[] = []
    for (let id: number | undefined = leaf; id !== undefined; id = parent.get(id)) stack.push(nodes.get(id)!.callFrame)
    if (stack[0]!.functionName === '(idle)' || stack.some((f) => f.url.startsWith('node:inspector'))) return
    busy += dt
    const k = key(stack)
    time.set(k, (time.get(k) ?? 0) + dt)
  })
  return new Map([...time].map(([k, dt]) => [k, dt / busy]))
}

function byFile(p: Profiler.Profile): Map<string, number> {
  return shares(p, (stack) => {
    const f = stack.find((c) => SRC.test(c.url))
    return f ? SRC.exec(f.url)![1]! : `(no voxgate frame) ${stack.at(-2)?.functionName ?? ''}`
  })
}
function bySelf(p: Profiler.Profile): Map<string, number> {
  return shares(p, ([f]) => {
    const where = f!.url.replace(/.*node_modules\//, '').replace(/.*\/src\//, '')
    return `${f!.functionName || '(anonymous)'} ${where}:${f!.lineNumber + 1}`
  })
}
