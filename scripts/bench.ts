/**
 * `npm run bench`: bench/run.ts under the test CA, so its clients verify TLS like the tests do, then the
 * ledger and metrics on/off (scripts/bench-operators.ts); `npm run bench -- <section>` runs one section.
 * `npm run bench -- operators` (the ledger and metrics on vs off; `operators-aa`: its A/A check) runs
 * scripts/bench-operators.ts, then any other section named with it. `npm run bench -- profile-mint` prints
 * where a mint's server time goes against `GET /`'s and writes both profiles to bench-profiles/ (bench/profile-mint.ts);
 * `npm run bench -- perf-mint` does so with Linux perf, which sees the native frames (bench/perf-mint.ts);
 * `PROFILE_SIDE=on|off npm run bench -- profile-ledger`, where a short stream's does (bench/profile-ledger.ts);
 * `profile-gateway` does the same for the gateway of `gateway-overhead`, "on" against "off" (bench/profile-gateway.ts).
 */
import { prepareTestCa, runWithTestCa, spawnWithTestCa } from './test-ca.ts'

const args = process.argv.slice(2)
const entry = args.some((a) => a === 'operators' || a === 'operators-aa' || a === 'operators-real')
  ? './bench-operators.ts'
  : '../bench/run.ts'
if (args[0] === 'perf-mint') {
  // Node's perf map names the JIT frames for perf.
  const perfMint = new URL('../bench/perf-mint.ts', import.meta.url).pathname
  process.exit(await spawnWithTestCa([perfMint], { execArgv: ['--perf-basic-prof', '--import', 'tsx'] }))
}
if (args[0] === 'profile-mint' || args[0] === 'profile-gateway') {
  await runWithTestCa([new URL(`../bench/${args[0]}.ts`, import.meta.url).pathname])
}
if (args[0] === 'profile-ledger') {
  await runWithTestCa([new URL('../bench/profile-ledger.ts', import.meta.url).pathname])
}
if (args.length === 0) {
  // The whole run: every section of bench/run.ts, then the ledger and metrics on/off (issue 26, item 5),
  // so one `npm run bench` prints every target's verdict.
  const ca = prepareTestCa()
  const code = await spawnWithTestCa([new URL('../bench/run.ts', import.meta.url).pathname], { ca })
  if (code !== 0) process.exit(code)
  process.exit(await spawnWithTestCa([new URL('./bench-operators.ts', import.meta.url).pathname, 'operators'], { ca }))
}
await runWithTestCa([new URL(entry, import.meta.url).pathname, ...args])
