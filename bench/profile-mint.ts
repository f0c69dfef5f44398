/**
 * `npm run bench -- profile-mint`: where a mint's time goes on the server's thread. The server and
 * load of `npm run bench -- auth`; `GET /` and `POST /access-token` are profiled in interleaved rounds
 * (the machine is shared), each sample is put in the category its innermost naming frame names, and
 * the server thread's own CPU time (from /proc, so other processes' load does not count) turns shares
 * into microseconds per request. The last round's profiles are written to bench-profiles/ (open them in
 * Chrome's DevTools). PROFILE_MS sets a round's length, PROFILE_ROUNDS their number.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { Session, type Profiler } from 'node:inspector/promises'
import { startTestServer } from '../packages/server/test/helpers/server.ts'
import { load, type LoadSpec } from './http-load.ts'
import { categorise } from './profile-categories.ts'
import { threadCpuMs } from './thread-cpu.ts'

/** Categories: a sample counts for the one its innermost naming frame matches (background timers: any frame). */
const CATEGORIES: [string, RegExp][] = [
  // Not the request's: the test server polls the store every 100 ms (state, webhook outbox).
  ['background timers (store poll, webhook outbox)', /^(listOnTimeout|processTimers) /],
  ['Ed25519 signature', /^signOneShot /],
  ['token id (random bytes)', /^randomId /],
  ['token claims and encoding (JSON, base64url)', /^(signJwt|mint) .*auth\/(sign|tokens)\.ts/],
  ['API key: store lookup', /^findApiKeyByHash |store\/(deadline|fault-reporting|wrap-methods)\.ts/],
  ['API key: digest and the rest of the check', /auth\/(authenticator|api-keys)\.ts/],
  [
    'credential extraction, route access, origin',
    /http\/(guard|authenticate|origin|scopes)\.ts|auth\/(credentials|authorize)\.ts/,
  ],
  ['body-rate guard', /http\/slow-body\.ts/],
  ['body: JSON parse', /content-type-parser\.js|secure-json-parse/],
  ['body: schema validation (zod)', /\/zod\//],
  ['mint route, policy, metrics', /routes\/access-token\.ts|auth\/key-policy\.ts|prom-client/],
  ['request log and per-request logger', /\/pino\/|logger-factory\.js/],
  ['response: serialise, headers, TLS write', /^(writev|writevGeneric|writeGeneric) |reply\.js|_http_outgoing/],
  [
    'request: TLS read, HTTP parse, routing',
    /_http_server|_http_common|_http_incoming|find-my-way|route\.js|tls_wrap|onStreamRead/,
  ],
  ['Fastify hooks and promises (the rest)', /fastify\/|task_queues|runMicrotasks/],
]

interface Round {
  route: string
  requests: number
  cpuMs: number
  profile: Profiler.Profile
}

const t = await startTestServer({ logLevel: 'silent', mintPerMinute: 0, ttsStreamsPerMinute: 0 })
const session = new Session()
session.connect()
try {
  const common = { url: t.url, connections: 16, durationMs: Number(process.env.PROFILE_MS ?? 3000) }
  const routes: Record<string, LoadSpec> = {
    'GET /': { ...common, path: '/', method: 'GET' },
    'POST /access-token': {
      ...common,
      path: '/access-token',
      method: 'POST',
      headers: { authorization: `Bearer ${t.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ grants: { tts: true }, expires_in: 60 }),
    },
  }
  for (const spec of Object.values(routes)) await load({ ...spec, durationMs: 1000 }) // warm-up: JIT, connections
  await session.post('Profiler.enable')
  const rounds: Round[] = []
  const names = Object.keys(routes)
  for (let i = 0; i < Number(process.env.PROFILE_ROUNDS ?? 2); i++) {
    for (const route of i % 2 === 0 ? names : [...names].reverse()) {
      await session.post('Profiler.start')
      const cpu0 = threadCpuMs()
      const r = await load(routes[route]!)
      const cpuMs = threadCpuMs() - cpu0
      const { profile } = await session.post('Profiler.stop')
      rounds.push({ route, requests: r.requests, cpuMs, profile })
    }
  }
  printTable(rounds, names)
  mkdirSync('bench-profiles', { recursive: true })
  for (const r of rounds.slice(-names.length))
    writeFileSync(`bench-profiles/${r.route.replace(/\W+/g, '_')}.cpuprofile`, JSON.stringify(r.profile))
} finally {
  session.disconnect()
  await t.close()
}

function printTable(rounds: Round[], routes: string[]): void {
  const perRequest = new Map<string, Map<string, number>>()
  for (const route of routes) {
    const mine = rounds.filter((r) => r.route === route)
    const requests = mine.reduce((n, r) => n + r.requests, 0)
    const sum = new Map<string, number>()
    for (const r of mine) {
      for (const [category, share] of categorise(r.profile, CATEGORIES, 'other (V8, GC, timers)')) {
        sum.set(category, (sum.get(category) ?? 0) + (share * r.cpuMs * 1000) / requests)
      }
    }
    perRequest.set(route, sum)
  }
  const [base, mint] = routes.map((r) => perRequest.get(r)!) as [Map<string, number>, Map<string, number>]
  const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0)
  console.log(`server-thread CPU µs per request, ${rounds.length} rounds`)
  console.log(`${'category'.padEnd(46)} ${routes[0]!.padStart(8)} ${routes[1]!.padStart(20)}  difference`)
  const rows = [...new Set([...base.keys(), ...mint.keys()])].sort((a, b) => (mint.get(b) ?? 0) - (mint.get(a) ?? 0))
  for (const c of rows) {
    const [g, m] = [base.get(c) ?? 0, mint.get(c) ?? 0]
    console.log(
      `${c.padEnd(46)} ${g.toFixed(1).padStart(8)} ${m.toFixed(1).padStart(20)}  ${(m - g).toFixed(1).padStart(9)}`,
    )
  }
  const [g, m] = [total(base), total(mint)]
  console.log(
    `${'total'.padEnd(46)} ${g.toFixed(1).padStart(8)} ${m.toFixed(1).padStart(20)}  ${(m - g).toFixed(1).padStart(9)}`,
  )
}
