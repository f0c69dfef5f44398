/**
 * `npm run bench -- profile-ledger` (issue 26 item 5): where the usage ledger and the metrics spend a
 * short stream's server time. The workload of `npm run bench -- operators` (POST /tts/bytes of a short
 * transcript, deterministic engine inline, 8 connections) against one server in this process, "on"
 * (metrics and the ledger, as it ships) or "off" (neither; the store wrapper of bench-operators.ts),
 * chosen by PROFILE_SIDE. Each sample goes to the category its innermost naming frame names, and the
 * server thread's own CPU time (from /proc, so other processes do not count) turns shares into
 * microseconds per stream. The "on" and "off" figures come from two runs of this file: run them one
 * after the other, alternating, and compare the totals. The last round's profile goes to bench-profiles/.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { Session, type Profiler } from 'node:inspector/promises'
import { loadavg } from 'node:os'
import { createLogger } from '../packages/server/src/logger.ts'
import { openStore } from '../packages/server/src/store/open.ts'
import { ttsBody, voiceIds } from '../packages/server/test/helpers/security.ts'
import { startTestServer } from '../packages/server/test/helpers/server.ts'
import { load } from './http-load.ts'
import { categorise } from './profile-categories.ts'
import { threadCpuMs } from './thread-cpu.ts'
import { withoutLedger } from './without-ledger.ts'

/** Categories: a sample counts for the one its innermost naming frame matches (background timers: any frame). */
const CATEGORIES: [string, RegExp][] = [
  ['background timers (store poll, webhook outbox)', /^(listOnTimeout|processTimers) /],
  ['ledger: the settlement write (SQLite)', /settlement-batch\.ts|store\/sqlite\/usage\.ts/],
  [
    'ledger: the settle call (figures, delta, refund)',
    /^settle .*(budgets|block-source|reservation)\.ts|usage-delta\.ts/,
  ],
  ['metrics: the metered store (on only)', /metrics\/store\.ts/],
  [
    'metrics: prom-client, observers, metered speech',
    /prom-client|metrics\/(prometheus|speech)\.ts|node:internal\/perf/,
  ],
  ['store wrappers (deadline, faults)', /store\/(wrap-methods|deadline|fault-reporting)\.ts/],
  ['store: versionNow (API key check)', /^versionNow /],
  ['speech synthesis (deterministic engine, plan, encode)', /\/tts\/|protocol\/src\//],
]

interface Round {
  requests: number
  cpuMs: number
  profile: Profiler.Profile
}

const side = process.env.PROFILE_SIDE === 'off' ? 'off' : 'on'
const base = { logLevel: 'silent' as const, mintPerMinute: 0, ttsStreamsPerMinute: 0 }
const logger = createLogger('silent')
const offStore =
  side === 'off' ? await openStore({ dataDir: (await import('node:fs')).mkdtempSync('/tmp/vx-prof-') }) : undefined
const t =
  side === 'on'
    ? await startTestServer({ ...base, metrics: true, metricsPort: 0 }, { logger })
    : await startTestServer({ ...base, metrics: false }, { logger, store: withoutLedger(offStore!) })
const [voice] = (await voiceIds(t.url, t.apiKey, 1)) as [string]
const session = new Session()
session.connect()
try {
  console.log(
    `side ${side}, load average at start ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  )
  const spec = {
    url: t.url,
    path: '/tts/bytes',
    method: 'POST' as const,
    headers: { authorization: `Bearer ${t.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(ttsBody(voice, 'Hello there, how are you?')),
    connections: 8,
    durationMs: Number(process.env.PROFILE_MS ?? 3000),
  }
  await load({ ...spec, durationMs: 2000 }) // warm-up: JIT, connections
  await session.post('Profiler.enable')
  const rounds: Round[] = []
  for (let i = 0; i < Number(process.env.PROFILE_ROUNDS ?? 3); i++) {
    await session.post('Profiler.start')
    const cpu0 = threadCpuMs()
    const r = await load(spec)
    const cpuMs = threadCpuMs() - cpu0
    const { profile } = await session.post('Profiler.stop')
    rounds.push({ requests: r.requests, cpuMs, profile })
    console.log(
      `round ${i}: ${r.perSecond.toFixed(0)} req/s, ${((cpuMs * 1000) / r.requests).toFixed(1)} CPU µs/stream`,
    )
  }
  printTable(rounds)
  mkdirSync('bench-profiles', { recursive: true })
  writeFileSync(`bench-profiles/tts-bytes-${side}.cpuprofile`, JSON.stringify(rounds.at(-1)!.profile))
} finally {
  session.disconnect()
  await t.close()
  await offStore?.close()
}

function printTable(rounds: Round[]): void {
  const requests = rounds.reduce((n, r) => n + r.requests, 0)
  const sum = new Map<string, number>()
  for (const r of rounds) {
    for (const [category, share] of categorise(r.profile, CATEGORIES, 'the rest of the stream')) {
      sum.set(category, (sum.get(category) ?? 0) + (share * r.cpuMs * 1000) / requests)
    }
  }
  console.log(`server-thread CPU µs per stream (${side}), ${rounds.length} rounds, ${requests} streams`)
  for (const [c, us] of [...sum].sort((a, b) => b[1] - a[1]))
    console.log(`${c.padEnd(50)} ${us.toFixed(1).padStart(8)}`)
  console.log(
    `${'total'.padEnd(50)} ${[...sum.values()]
      .reduce((a, b) => a + b, 0)
      .toFixed(1)
      .padStart(8)}`,
  )
}
