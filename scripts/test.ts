/**
 * `npm test`: runs every `*.test.ts` with Node's test runner. Before that it creates one test CA and
 * a localhost certificate and points NODE_EXTRA_CA_CERTS at the CA, so every test talks real,
 * verified TLS (fetch, ws, the official Cartesia SDK, Chromium) without disabling verification.
 * Arguments filter the files by substring: `npm test -- websocket`.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { ensureDevTls } from '../packages/server/src/tls/dev-ca.ts'

const root = path.resolve(import.meta.dirname, '..')
const roots = ['packages', 'examples'].map((d) => path.join(root, d))

function findTests(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules') continue
    const full = path.join(dir, name)
    if (statSync(full).isDirectory()) findTests(full, out)
    else if (name.endsWith('.test.ts')) out.push(full)
  }
  return out
}

const filters = process.argv.slice(2)
const files = roots.flatMap((d) => findTests(d)).sort()
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
if (files.length === 0) {
  console.error('no test files matched')
  process.exit(1)
}
const tlsDir = mkdtempSync(path.join(tmpdir(), 'voxgate-test-tls-'))
const tls = await ensureDevTls(tlsDir)
const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...files], {
  stdio: 'inherit',
  env: { ...process.env, NODE_EXTRA_CA_CERTS: tls.caFile, VOXGATE_TEST_TLS_DIR: tlsDir },
})
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
