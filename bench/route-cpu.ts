/**
 * Server-thread CPU a request for several routes of one server, in interleaved rounds (the machine is
 * shared: a route measured alone would carry its minute's load). For ablations: a copy of the tree
 * whose server has extra, bench-only routes (a mint-sized answer, a body read, a guarded no-op...) is
 * given as TREE, and ROUTES names what to load, `;`-separated `METHOD /path` items; a `+key` suffix
 * sends the test API key as a bearer, and every POST sends the mint's JSON body. Also prints one raw
 * Ed25519 signature's CPU each round. Run with the test CA (as bench/mint-before-after.ts):
 *
 *   TREE=/tmp/variant ROUTES='GET /;POST /access-token +key' node --import tsx -e \
 *     "import {runWithTestCa} from './scripts/test-ca.ts'; await runWithTestCa(['bench/route-cpu.ts'])"
 */
import { sign } from 'node:crypto'
import path from 'node:path'
import type { TestServer } from '../packages/server/test/helpers/server.ts'
import { median } from './auth.ts'
import { load, type LoadSpec } from './http-load.ts'
import { threadCpuMs } from './thread-cpu.ts'

const TREE = path.resolve(process.env.TREE ?? path.join(import.meta.dirname, '..'))
const ROUND_MS = Number(process.env.ROUND_MS ?? 2000)
const ROUNDS = Number(process.env.ROUNDS ?? 5)
const ROUTES = (process.env.ROUTES ?? 'GET /;POST /access-token +key').split(';').map((s) => s.trim())

const helper = (await import(`${TREE}/packages/server/test/helpers/server.ts`)) as {
  startTestServer: (o: object) => Promise<TestServer>
}
const t = await helper.startTestServer({ logLevel: 'silent', mintPerMinute: 0, ttsStreamsPerMinute: 0 })

function spec(route: string, durationMs = ROUND_MS): LoadSpec {
  const [method, routePath, key] = route.split(/\s+/) as ['GET' | 'POST', string, string | undefined]
  const headers: Record<string, string> = {}
  if (key === '+key') headers.authorization = `Bearer ${t.apiKey}`
  if (method === 'POST') headers['content-type'] = 'application/json'
  const body = method === 'POST' ? JSON.stringify({ grants: { tts: true }, expires_in: 60 }) : undefined
  return { url: t.url, connections: 16, durationMs, path: routePath, method, headers, ...(body && { body }) }
}

function signCpuUs(): number {
  const { privateKey } = t.server.ctx.keyRing.signer()
  const input = Buffer.from('x'.repeat(400))
  const cpu0 = threadCpuMs()
  for (let i = 0; i < 1000; i++) sign(null, input, privateKey)
  return threadCpuMs() - cpu0
}

const cpu: Record<string, number[]> = Object.fromEntries([...ROUTES, 'raw sign'].map((r) => [r, []]))
const fmt = (xs: number[]) => `${median(xs).toFixed(1)} (${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)})`
try {
  for (const route of ROUTES) await load(spec(route, 800))
  for (let i = 0; i < ROUNDS; i++) {
    // Each round starts one route further on, so no route always follows the same one.
    for (let k = 0; k < ROUTES.length; k++) {
      const route = ROUTES[(k + i) % ROUTES.length]!
      const cpu0 = threadCpuMs()
      const r = await load(spec(route))
      if (r.errors > 0) console.log(`${route}: ${r.errors} errors`)
      cpu[route]!.push(((threadCpuMs() - cpu0) * 1000) / Math.max(1, r.requests))
    }
    cpu['raw sign']!.push(signCpuUs())
    console.log(
      `round ${i}: ${Object.entries(cpu)
        .map(([r, xs]) => `${r} ${xs.at(-1)!.toFixed(1)}`)
        .join(', ')}`,
    )
  }
  console.log(`\nserver thread, µs CPU a request, median (min–max) of ${ROUNDS} rounds:`)
  for (const [route, xs] of Object.entries(cpu)) console.log(`  ${route.padEnd(32)} ${fmt(xs)}`)
} finally {
  await t.close()
}
