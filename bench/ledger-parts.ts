/**
 * `node --import tsx bench/ledger-parts.ts` (issue 26 item 5): the usage ledger's and the metrics' parts of a
 * short stream, each counted alone in this thread's CPU time (from /proc, so the machine's other load
 * barely moves it), in interleaved repetitions, median and spread printed:
 * - a settlement through the SQLite store (a temp folder), one per event-loop turn, each awaited: the
 *   worst case, a commit per stream, as when streams end one at a time;
 * - the same, eight per turn (eight streams ending together share one write);
 * - the metrics one stream counts as the server calls them: its request, its credential check, the
 *   characters handed to synthesis, and its open-streams gauge, first-audio and duration histograms.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import path from 'node:path'
import { countCharacters } from '@voxgate/protocol'
import { createMetrics } from '../packages/server/src/metrics/prometheus.ts'
import { openStore } from '../packages/server/src/store/open.ts'
import type { Store } from '../packages/server/src/store/types.ts'
import { usageDelta } from '../packages/server/src/usage/usage-delta.ts'
import type { Principal } from '../packages/server/src/auth/principal.ts'
import { threadCpuMs } from './thread-cpu.ts'

const N = Number(process.env.N ?? 5000)
const REPS = Number(process.env.REPS ?? 7)
const TEXT = 'Hello there, how are you?'
const principal = { kind: 'apiKey', keyId: 'key_bench' } as unknown as Principal
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!

async function settlements(store: Store, perTurn: number): Promise<void> {
  for (let i = 0; i < N; i += perTurn) {
    const turn: Promise<void>[] = []
    for (let j = 0; j < perTurn; j++) {
      const figures = { characters: TEXT.length, audioMsProduced: 1500, streams: 1 }
      turn.push(store.settleUsage(usageDelta(principal, figures, Date.now())))
    }
    await Promise.all(turn)
  }
}

function metrics(m: ReturnType<typeof createMetrics>): void {
  for (let i = 0; i < N; i++) {
    m.request('POST', '/tts/bytes', 200)
    m.credentialChecked('ok')
    m.charactersSynthesized(countCharacters(TEXT))
    const observed = m.streams!.opened('bytes')
    observed.firstAudio()
    observed.closed()
  }
}

const dir = mkdtempSync(path.join(tmpdir(), 'voxgate-ledger-parts-'))
const store = await openStore({ dataDir: dir })
const m = createMetrics()
const parts: [string, () => Promise<void> | void][] = [
  ['settlement, one per turn (a commit each)', () => settlements(store, 1)],
  ['settlement, eight per turn (one commit)', () => settlements(store, 8)],
  ['metrics of one stream (prom-client)', () => metrics(m)],
]
console.log(
  `load average at start: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}; ${REPS} repetitions of ${N}`,
)
const figures = new Map<string, number[]>(parts.map(([name]) => [name, []]))
try {
  for (const [, run] of parts) await run() // warm-up: JIT, the ledger's first row
  for (let r = 0; r < REPS; r++) {
    for (const [name, run] of r % 2 === 0 ? parts : [...parts].reverse()) {
      const cpu0 = threadCpuMs()
      await run()
      figures.get(name)!.push(((threadCpuMs() - cpu0) * 1000) / N)
    }
  }
  for (const [name, us] of figures) {
    const spread = `${Math.min(...us).toFixed(2)}–${Math.max(...us).toFixed(2)}`
    console.log(`${name.padEnd(44)} ${median(us).toFixed(2).padStart(7)} CPU µs per stream (${spread})`)
  }
} finally {
  await store.close()
  rmSync(dir, { recursive: true, force: true })
}
