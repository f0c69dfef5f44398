/**
 * `npm run bench -- gateway-overhead` (issue 25, item 5): what keeping speaking costs a gateway whose
 * upstream is healthy. Throughput of `POST /tts/bytes` through two gateways in front of one upstream
 * voxgate:
 *
 * - "on": as issue 25 ships it: the circuit breaker guarding every upstream call, `--tts-cache-mb 64`
 *   (every answer looked up, and kept when whole), `--fallback local` (idle while the upstream answers);
 * - "off": no cache, no fallback, and the breaker taken out of the running server's context (bench-only,
 *   below: the relay then calls the upstream directly, as before issue 25). Nothing in production code
 *   knows about it.
 *
 * Workload "distinct": every request a transcript never asked before (a counter in it), so every
 * request on "on" is a cache miss that is then filled, LRU evictions included once the 64 MB are full:
 * the cache's worst case, and the one the target is about. Workload "repeated": one sentence again and
 * again, where "on" answers from the cache without calling the upstream: what the cache saves, printed
 * for information, not against the target.
 *
 * Each server (the upstream, both gateways) runs in a process of its own, on the deterministic engine
 * (audio as fast as the CPU allows, so the relay's own cost is as visible as it gets); the load comes
 * from a worker thread of this process, 8 keep-alive connections. A round is on/off/off/on or
 * off/on/on/off (alternating) after an unmeasured lead-in; its ratio is the mean of the two "on" phases
 * over the two "off" ones; printed: the median ratio, its spread, and the verdict against the target
 * (median ≥ 0.97), reported, never enforced. `gateway-overhead-aa` runs the same with "off" on both
 * sides, to show the bench's own bias (ratios should centre on 1.00). Loopback only; about 3 minutes.
 */
import { fork } from 'node:child_process'
import https from 'node:https'
import { loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { isMainThread } from 'node:worker_threads'
import { inWorker, serveInWorker } from './in-worker.ts'

const ROUNDS = 12
const PHASE_MS = 1500
const LEAD_IN_MS = 250
const WARMUP_MS = 1000
const CONNECTIONS = 8
const TARGET = 0.97
const SENTENCE = 'Welcome back, it is good to hear from you again.'

const fmt = (n: number, d = 2) => n.toFixed(d)
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

export type Role = 'upstream' | 'on' | 'off'
export interface Ready {
  url: string
  apiKey: string
  voice: string
}

/** In the child: one server; a gateway learns its upstream over IPC (the key stays out of the process list). */
async function serve(role: Role): Promise<void> {
  const base = { logLevel: 'silent' as const, mintPerMinute: 0, ttsStreamsPerMinute: 0 }
  const upstream =
    role === 'upstream'
      ? undefined
      : await new Promise<Ready>((resolve) => process.once('message', (m) => resolve(m as Ready)))
  const { startTestServer } = await import('../packages/server/test/helpers/server.ts')
  const { createLogger } = await import('../packages/server/src/logger.ts')
  const { voiceIds } = await import('../packages/server/test/helpers/security.ts')
  const relay = upstream && { upstreamUrl: upstream.url, upstreamApiKey: upstream.apiKey }
  const on = role === 'on' ? { ttsCacheMb: 64, fallback: 'local' as const } : {}
  const t = await startTestServer({ ...base, ...relay, ...on }, { logger: createLogger('silent') })
  // "off": the relay calls the upstream directly, as before the breaker (startThrough skips an absent one).
  if (role === 'off') (t.server.ctx as { circuit?: unknown }).circuit = undefined
  if (role === 'on' && (!t.server.ctx.circuit || !t.server.ctx.ttsCache)) throw new Error('"on" lacks its parts')
  const voice = upstream?.voice ?? ((await voiceIds(t.url, t.apiKey, 1)) as [string])[0]
  process.on('message', async (m) => {
    if (m !== 'close') return
    await t.close()
    process.exit(0)
  })
  process.send!({ url: t.url, apiKey: t.apiKey, voice } satisfies Ready)
}

export async function startProcess(role: Role, upstream?: Ready): Promise<Ready & { close(): Promise<void> }> {
  const child = fork(fileURLToPath(import.meta.url), ['--gateway-overhead-serve', role], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  // Never leave a server behind if the bench fails.
  process.once('exit', () => child.kill())
  const ready = new Promise<Ready>((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`the ${role} server exited (${code})`))
    child.once('exit', onExit)
    child.once('message', (m) => {
      child.off('exit', onExit)
      resolve(m as Ready)
    })
  })
  if (upstream) child.send(upstream)
  return {
    ...(await ready),
    async close() {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.send('close')
      await exited
    },
  }
}

/** One gateway, one workload: where to send and what. */
interface Target {
  url: string
  token: string
  voice: string
  /** A new transcript on every request (a counter in it), or SENTENCE every time. */
  distinct: boolean
}
interface Phase {
  target: number
  ms: number
  /** -1 for phases not measured (warm-up, lead-ins). */
  round: number
}
interface Schedule {
  targets: Target[]
  phases: Phase[]
}

/**
 * The load generator (a worker thread): closed-loop keep-alive HTTPS on CONNECTIONS connections per
 * target, each answer read to its end; requests per second per phase, and non-200 answers or failures.
 */
async function runSchedule(schedule: Schedule): Promise<{ perSecond: number[]; errors: number }> {
  const agents = schedule.targets.map((t) => {
    if (!['127.0.0.1', 'localhost', '[::1]'].includes(new URL(t.url).hostname))
      throw new Error('load tests target loopback only')
    return new https.Agent({ keepAlive: true, maxSockets: CONNECTIONS })
  })
  let errors = 0
  let seq = 0
  const perSecond: number[] = []
  for (const phase of schedule.phases) {
    const t = schedule.targets[phase.target]!
    const url = new URL('/tts/bytes', t.url)
    let requests = 0
    const one = () =>
      new Promise<void>((resolve) => {
        const transcript = t.distinct ? `Hello there, this is request ${seq++}.` : SENTENCE
        const req = https.request(
          url,
          {
            method: 'POST',
            agent: agents[phase.target],
            headers: { authorization: `Bearer ${t.token}`, 'content-type': 'application/json' },
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
        req.end(
          JSON.stringify({
            model_id: 'sonic-3',
            transcript,
            voice: { mode: 'id', id: t.voice },
            output_format: { container: 'raw', encoding: 'pcm_s16le', sample_rate: 24000 },
          }),
        )
      })
    const start = performance.now()
    const end = start + phase.ms
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        while (performance.now() < end) await one()
      }),
    )
    perSecond.push(requests / ((performance.now() - start) / 1000))
  }
  for (const a of agents) a.destroy()
  return { perSecond, errors }
}

serveInWorker('gateway-overhead-schedule', runSchedule)

/** `aa`: "off" on both sides, to see the bench's own bias (expect ratios around 1.00). */
export async function gatewayOverheadSection(aa = false): Promise<void> {
  console.log(
    `\n## gateway-overhead: breaker + TTS cache + fallback on vs off, POST /tts/bytes relayed${aa ? ' (A/A check: both sides off)' : ''}`,
  )
  console.log(
    `${ROUNDS} interleaved rounds per workload, on/off/off/on or off/on/on/off with ${PHASE_MS / 1000} s phases, ${CONNECTIONS} connections; upstream, gateways and client in processes of their own; the machine is shared and noisy, so read the ratios`,
  )
  const { mint } = await import('../packages/server/test/helpers/http.ts')
  const upstream = await startProcess('upstream')
  const [on, off] = await Promise.all([startProcess(aa ? 'off' : 'on', upstream), startProcess('off', upstream)])
  try {
    const token = (s: Ready) => mint(s.url, s.apiKey, { grants: { tts: true }, expires_in: 3600, sub: 'bench' })
    const sides = [
      { ...on, token: await token(on) },
      { ...off, token: await token(off) },
    ]
    const workloads = [
      { name: 'distinct transcripts (every request a cache miss, then kept): the target', distinct: true },
      { name: 'one sentence repeated ("on" answers from the cache): for information', distinct: false },
    ]
    // Targets: workload w against on is 2w, against off 2w + 1.
    const targets: Target[] = workloads.flatMap((w) =>
      sides.map((s) => ({ url: s.url, token: s.token, voice: s.voice, distinct: w.distinct })),
    )
    const phases: Phase[] = targets.map((_, target) => ({ target, ms: WARMUP_MS, round: -1 }))
    for (let r = 0; r < ROUNDS; r++) {
      for (let w = 0; w < workloads.length; w++) {
        const order = r % 2 === 0 ? [0, 1, 1, 0] : [1, 0, 0, 1]
        phases.push({ target: 2 * w + order[0]!, ms: LEAD_IN_MS, round: -1 })
        for (const side of order) phases.push({ target: 2 * w + side, ms: PHASE_MS, round: r })
      }
    }
    const { perSecond, errors } = await inWorker<Schedule, { perSecond: number[]; errors: number }>(
      import.meta.url,
      'gateway-overhead-schedule',
      { targets, phases },
    )
    const measured = phases.map((p, i) => ({ ...p, perSecond: perSecond[i]! })).filter((p) => p.round >= 0)
    for (const [w, workload] of workloads.entries()) {
      const rate = (side: number, r: number) =>
        median(measured.filter((p) => p.round === r && p.target === 2 * w + side).map((p) => p.perSecond))
      const rounds = Array.from({ length: ROUNDS }, (_, r) => r)
      const onRates = rounds.map((r) => rate(0, r))
      const offRates = rounds.map((r) => rate(1, r))
      const ratios = onRates.map((x, r) => x / offRates[r]!)
      const m = median(ratios)
      // An A/A run has no target: its ratio is the bench's own bias and noise, to read the real one by.
      const verdict = workload.distinct && !aa ? `; target median ≥ ${TARGET}: ${m >= TARGET ? 'met' : 'not met'}` : ''
      const [a, b] = aa ? ['off (A)', 'off (B)'] : ['on', 'off']
      console.log(workload.name)
      console.log(
        `  ${a} ${fmt(median(onRates), 0)} req/s, ${b} ${fmt(median(offRates), 0)} req/s (medians over rounds)`,
      )
      console.log(
        `  ${aa ? 'A/B' : 'on/off'} ratio: median ${fmt(m)}, spread ${fmt(Math.min(...ratios))}–${fmt(Math.max(...ratios))} over ${ratios.length} rounds [${ratios.map((x) => fmt(x)).join(' ')}]${verdict}`,
      )
    }
    console.log(`non-200 answers or failed requests: ${errors}; load average at the end ${fmt(loadavg()[0]!)}`)
  } finally {
    await Promise.all([on.close(), off.close()])
    await upstream.close()
  }
}

if (isMainThread && process.argv[2] === '--gateway-overhead-serve') await serve(process.argv[3] as Role)
