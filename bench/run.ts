/**
 * `npm run bench`: every figure the README carries, from one run, each beside a baseline measured in
 * the same run (the machine is shared and noisy, so only ratios travel). Loopback only; bounded.
 */
import { startTestServer } from '../packages/server/test/helpers/server.ts'
import { benchCredentialCheck, benchMintThroughput } from './auth.ts'

const fmt = (n: number, d = 1) => n.toFixed(d)

async function main(): Promise<void> {
  const t = await startTestServer({ logLevel: 'silent', mintPerMinute: 0, ttsStreamsPerMinute: 0 })
  try {
    console.log('# auth')
    const tp = await benchMintThroughput(t, 4000)
    console.log(`GET /               ${fmt(tp.statusPerSecond, 0)} req/s (baseline)`)
    console.log(`POST /access-token  ${fmt(tp.mintPerSecond, 0)} req/s  ratio ${fmt(tp.ratio, 2)} (target ≥ 0.6)  errors ${tp.errors}`)
    const cc = await benchCredentialCheck(t, 2000)
    console.log(`node:crypto Ed25519 verify      ${fmt(cc.rawUs)} µs (baseline)`)
    console.log(`credential check, first sight   ${fmt(cc.firstUs)} µs  ratio ${fmt(cc.firstRatio, 2)} (target ≤ 2)`)
    console.log(`credential check, seen before   ${fmt(cc.cachedUs, 2)} µs (target < 5 µs)`)
  } finally {
    await t.close()
  }
}

await main()
