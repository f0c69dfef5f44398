/**
 * `npm run bench`: bench/run.ts under the test CA, so its clients verify TLS like the tests do.
 * `npm run bench -- operators` (the ledger and metrics on vs off; `operators-aa`: its A/A check) runs
 * scripts/bench-operators.ts, then any other section named with it. `npm run bench -- profile-mint` prints
 * where a mint's server time goes against `GET /`'s and writes both profiles to bench-profiles/ (bench/profile-mint.ts);
 * `profile-gateway` does the same for the gateway of `gateway-overhead`, "on" against "off" (bench/profile-gateway.ts).
 */
import { runWithTestCa } from './test-ca.ts'

const args = process.argv.slice(2)
const entry = args.some((a) => a === 'operators' || a === 'operators-aa' || a === 'operators-real')
  ? './bench-operators.ts'
  : '../bench/run.ts'
if (args[0] === 'profile-mint' || args[0] === 'profile-gateway') {
  await runWithTestCa([new URL(`../bench/${args[0]}.ts`, import.meta.url).pathname])
}
await runWithTestCa([new URL(entry, import.meta.url).pathname, ...args])
