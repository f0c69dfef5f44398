/** `npm run bench`: bench/run.ts under the test CA, so its clients verify TLS like the tests do. */
import { runWithTestCa } from './test-ca.ts'

await runWithTestCa([new URL('../bench/run.ts', import.meta.url).pathname, ...process.argv.slice(2)])
