/**
 * Minting before and after a change, in one process and one run (a shared machine's load moves from
 * minute to minute, so two separate runs do not compare): the server of another checkout of the repo
 * (BEFORE_TREE, with its node_modules) and this tree's, each given `GET /`, `POST /access-token` and
 * 1000 raw signatures in interleaved rounds. Per round: the server thread's CPU time a request, and
 * minting against its ceiling in CPU time and in wall-clock rates (as `npm run bench -- auth` reports
 * it); medians and spreads at the end. ROUNDS and ROUND_MS set the rounds. Run with the test CA:
 *
 *   BEFORE_TREE=/tmp/before node --import tsx -e \
 *     "import {runWithTestCa} from './scripts/test-ca.ts'; await runWithTestCa(['bench/mint-before-after.ts'])"
 */
import { sign } from 'node:crypto'
import path from 'node:path'
import type { TestServer } from '../packages/server/test/helpers/server.ts'
import { median, mintSpecs } from './auth.ts'
import type { LoadSpec } from './http-load.ts'
import { tlsLoad as load } from './tls-load.ts'
import { cpuOfLastingThreads, threadCpuSnapshot } from './process-cpu.ts'
import { threadCpuMs } from './thread-cpu.ts'

const beforeTree = process.env.BEFORE_TREE
if (!beforeTree) throw new Error('set BEFORE_TREE to the checkout to compare against')
const TREES = { before: path.resolve(beforeTree), after: path.resolve(import.meta.dirname, '..') }
const ROUND_MS = Number(process.env.ROUND_MS ?? 2000)
const ROUNDS = Number(process.env.ROUNDS ?? 6)

type Name = keyof typeof TREES
type Route = 'get' | 'mint'
interface Measured {
  perSecond: number
  cpuUs: number
  /** Every thread of the process that outlived the phase (so not the load generator's): the event loop, signatures, GC helpers; µs a request. */
  processCpuUs: number
  errors: number
}
interface Row {
  name: Name
  get: Measured
  mint: Measured
  signCpuUs: number
  signWallUs: number
  ofCeilingCpu: number
  ofCeilingWall: number
}

const servers = {} as Record<Name, TestServer>
for (const name of Object.keys(TREES) as Name[]) {
  const helper = (await import(`${TREES[name]}/packages/server/test/helpers/server.ts`)) as {
    startTestServer: (o: object) => Promise<TestServer>
  }
  servers[name] = await helper.startTestServer({ logLevel: 'silent', mintPerMinute: 0, ttsStreamsPerMinute: 0 })
}

function spec(t: TestServer, route: Route, durationMs = ROUND_MS): LoadSpec {
  const { status, mint } = mintSpecs(t, durationMs)
  return route === 'get' ? status : mint
}

async function timed(s: LoadSpec): Promise<Measured> {
  const [cpu0, threads0] = [threadCpuMs(), threadCpuSnapshot()]
  const r = await load(s)
  const threadsMs = cpuOfLastingThreads(threads0, threadCpuSnapshot())
  const n = Math.max(1, r.requests)
  return {
    perSecond: r.perSecond,
    cpuUs: ((threadCpuMs() - cpu0) * 1000) / n,
    // The load generator's thread lives on between runs (in-worker.ts): its own CPU is left out.
    processCpuUs: (threadsMs * 1000) / n - r.clientCpuUs,
    errors: r.errors,
  }
}

/** Microseconds of CPU and of wall clock per raw Ed25519 signature of a token-sized input. */
function rawSign(t: TestServer): { cpuUs: number; wallUs: number } {
  const { privateKey } = t.server.ctx.keyRing.signer()
  const input = Buffer.from('x'.repeat(400))
  const [cpu0, wall0] = [threadCpuMs(), performance.now()]
  for (let i = 0; i < 1000; i++) sign(null, input, privateKey)
  return { cpuUs: threadCpuMs() - cpu0, wallUs: performance.now() - wall0 }
}

async function round(name: Name, i: number): Promise<Row> {
  const t = servers[name]
  const measured = {} as Record<Route, Measured>
  for (const route of (i % 2 ? ['mint', 'get'] : ['get', 'mint']) as Route[])
    measured[route] = await timed(spec(t, route))
  const signed = rawSign(t)
  const { get, mint } = measured
  return {
    name,
    get,
    mint,
    signCpuUs: signed.cpuUs,
    signWallUs: signed.wallUs,
    ofCeilingCpu: (get.cpuUs + signed.cpuUs) / mint.cpuUs,
    ofCeilingWall: mint.perSecond * (1 / get.perSecond + signed.wallUs / 1e6),
  }
}

try {
  for (const t of Object.values(servers))
    for (const route of ['get', 'mint'] as Route[]) await load(spec(t, route, 800))
  const rows: Row[] = []
  for (let i = 0; i < ROUNDS; i++) {
    for (const name of (i % 2 ? ['after', 'before'] : ['before', 'after']) as Name[]) {
      const r = await round(name, i)
      rows.push(r)
      console.log(
        `${name.padEnd(6)} round ${i}: GET ${r.get.perSecond.toFixed(0)}/s ${r.get.cpuUs.toFixed(1)} µs, ` +
          `mint ${r.mint.perSecond.toFixed(0)}/s ${r.mint.cpuUs.toFixed(1)} µs (process ${r.mint.processCpuUs.toFixed(1)}), sign ${r.signCpuUs.toFixed(1)} µs CPU ` +
          `${r.signWallUs.toFixed(1)} µs wall; of ceiling: CPU ${r.ofCeilingCpu.toFixed(2)}, wall ${r.ofCeilingWall.toFixed(2)}; ` +
          `errors ${r.get.errors + r.mint.errors}`,
      )
    }
  }
  for (const name of Object.keys(TREES) as Name[]) {
    const mine = rows.filter((r) => r.name === name)
    const f = (g: (r: Row) => number) => {
      const xs = mine.map(g)
      return `${median(xs).toFixed(2)} (${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)})`
    }
    console.log(
      `${name}: server thread CPU a request: GET ${f((r) => r.get.cpuUs)} µs, mint ${f((r) => r.mint.cpuUs)} µs ` +
        `(the process's lasting threads: GET ${f((r) => r.get.processCpuUs)}, mint ${f((r) => r.mint.processCpuUs)}), ` +
        `sign ${f((r) => r.signCpuUs)} µs; minting of its ceiling: CPU ${f((r) => r.ofCeilingCpu)}, wall ${f((r) => r.ofCeilingWall)}`,
    )
  }
} finally {
  for (const t of Object.values(servers)) await t.close()
}
