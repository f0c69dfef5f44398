/**
 * Minting counted in instructions, which a shared machine's load does not change (wall-clock and even
 * CPU-time figures swing several-fold there, steal time included). Run under callgrind, instrumenting
 * only the measured phases:
 *
 *   valgrind --tool=callgrind --separate-threads=yes --instr-atstart=no --smc-check=all-non-file \
 *     --collect-atstart=no --toggle-collect=uv__io_poll \
 *     --callgrind-out-file=/tmp/cg.%p node --import tsx bench/callgrind-mint.ts
 *
 * (`--toggle-collect=uv__io_poll` counts only the event loop's I/O callbacks: the requests, their
 * answers and the signatures' completions, with the microtasks they run; not the timers (the store's
 * poll, the webhook outbox, housekeeping), whose share grows with a phase's wall-clock length under
 * valgrind, which the machine's load sets. With it, `GET /` phases of three runs at the same point of
 * each run agreed within 3 %; the level still falls from phase to phase as V8 keeps optimising (its
 * compiler threads get little time under valgrind), so compare phases at the same place of two runs.
 * The `sign` phase runs inside the callback that switched instrumentation on, which callgrind did not
 * see entered: it counts nothing with the toggle; count it without.)
 * with NODE_EXTRA_CA_CERTS and VOXGATE_TEST_TLS_DIR set as `npm run bench` sets them (scripts/test-ca.ts).
 * Each phase is one dump; the server's thread is the `-01` file of each: `get` and `mint` (N requests,
 * then 2N: the difference cancels what a phase costs whatever its length, such as the load worker's
 * start and its TLS handshakes), then `sign` (N raw Ed25519 signatures, the ceiling's other half).
 * The speech routes cannot be counted so: V8 cannot reserve wasm memory (the MP3 encoder) under valgrind.
 * The credential check is counted by bench/callgrind-verify.ts.
 */
import { execFileSync } from 'node:child_process'
import { sign } from 'node:crypto'
import { startTestServer } from '../packages/server/test/helpers/server.ts'
import { load } from './http-load.ts'

const N = Number(process.env.N ?? 200)
const WARMUP = Number(process.env.WARMUP ?? 5 * N)
const callgrind = (...args: string[]) =>
  execFileSync('callgrind_control', [...args, String(process.pid)], { stdio: 'ignore' })
// Valgrind runs the server some fifty times slower: no timeout of the server's may cut a request short.
const t = await startTestServer({
  logLevel: 'silent',
  mintPerMinute: 0,
  ttsStreamsPerMinute: 0,
  bodyGraceMs: 600_000,
  headersTimeoutMs: 600_000,
  requestTimeoutMs: 3_600_000,
  storeRequestTimeoutMs: 60_000,
  // The store poll and the webhook outbox run on timers, so under valgrind their share grows with the
  // phase's wall-clock length (which the machine's load sets): polled as rarely as allowed.
  storePollMs: 5000,
})
try {
  const common = { url: t.url, connections: 4, durationMs: 600_000 }
  const get = { ...common, path: '/', method: 'GET' as const }
  const mint = {
    ...common,
    path: '/access-token',
    method: 'POST' as const,
    headers: { authorization: `Bearer ${t.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ grants: { tts: true }, expires_in: 60 }),
  }
  // Warm-up: JIT, connections, the key's first (uncached) check. V8 optimises on background threads,
  // so a short warm-up leaves a phase running code of a tier that depends on the machine's load
  // (measured runs of the same tree moved by half): WARMUP requests of each route, 5N by default.
  for (let i = 0; i < 5; i++) {
    await load({ ...get, requests: WARMUP / 5 })
    await load({ ...mint, requests: WARMUP / 5 })
  }
  for (const [name, spec, n] of [
    ['get', get, N],
    ['mint', mint, N],
    ['get', get, 2 * N],
    ['mint', mint, 2 * N],
  ] as const) {
    callgrind('--instr=on')
    const r = await load({ ...spec, requests: n })
    callgrind(`--dump=${name} ${r.requests} requests, ${r.errors} errors`)
    callgrind('--instr=off')
  }
  const { privateKey } = t.server.ctx.keyRing.signer()
  const input = Buffer.from('x'.repeat(400))
  callgrind('--instr=on')
  for (let i = 0; i < N; i++) sign(null, input, privateKey)
  callgrind(`--dump=sign ${N}`)
  callgrind('--instr=off')
} finally {
  await t.close()
}
