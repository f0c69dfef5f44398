/**
 * The two load generators side by side on one server: http-load.ts (`https.request`) and tls-load.ts
 * (pre-serialised requests on raw TLS sockets), each on `GET /` and the mint, 3 interleaved rounds of
 * 2 s: rate, the server thread's CPU and the load generator's thread CPU a request. Run with the test CA:
 *
 *   node --import tsx -e "import {runWithTestCa} from './scripts/test-ca.ts'; await runWithTestCa(['bench/load-generators.ts'])"
 */
import { startTestServer } from '../packages/server/test/helpers/server.ts'
import { mintSpecs } from './auth.ts'
import { load } from './http-load.ts'
import { tlsLoad } from './tls-load.ts'
import { threadCpuMs } from './thread-cpu.ts'
import { loadAverage } from './verdict.ts'
const t = await startTestServer({ logLevel: 'silent', mintPerMinute: 0, ttsStreamsPerMinute: 0 })
const { status, mint } = mintSpecs(t, 2000)
console.log('load', loadAverage())
await tlsLoad({ ...mint, durationMs: 500 })
await load({ ...mint, durationMs: 500 })
for (let i = 0; i < 3; i++) {
  for (const [g, f] of [
    ['https', load],
    ['tls', tlsLoad],
  ] as const) {
    for (const [n, s] of [
      ['get', status],
      ['mint', mint],
    ] as const) {
      const c0 = threadCpuMs()
      const r = await f(s)
      const srv = ((threadCpuMs() - c0) * 1000) / r.requests
      console.log(
        g.padEnd(6),
        n.padEnd(5),
        `${r.perSecond.toFixed(0)} req/s server ${srv.toFixed(1)} client ${r.clientCpuUs.toFixed(1)} err ${r.errors}`,
      )
    }
  }
}
console.log('load', loadAverage())
await t.close()
