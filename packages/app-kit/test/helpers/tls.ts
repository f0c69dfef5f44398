import { readFileSync } from 'node:fs'
import path from 'node:path'

/** The localhost certificate `npm test` created (scripts/test.ts); NODE_EXTRA_CA_CERTS trusts its CA. */
export function testTlsFiles(): { cert: Buffer; key: Buffer } {
  const dir = process.env.VOXGATE_TEST_TLS_DIR
  if (!dir) throw new Error('run tests through `npm test` (scripts/test.ts), which sets up the test CA')
  return { cert: readFileSync(path.join(dir, 'dev-cert.pem')), key: readFileSync(path.join(dir, 'dev-key.pem')) }
}
