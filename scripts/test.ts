/**
 * `npm test`: runs every `*.test.ts` with Node's test runner under a fresh test CA (scripts/test-ca.ts).
 * Arguments filter the files by path substring: `npm test -- websocket`.
 */
import { readdirSync, statSync } from 'node:fs'
import path from 'node:path'
import { runWithTestCa } from './test-ca.ts'

const root = path.resolve(import.meta.dirname, '..')

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
const files = ['packages', 'examples'].flatMap((d) => findTests(path.join(root, d))).sort()
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
if (files.length === 0) {
  console.error('no test files matched')
  process.exit(1)
}
await runWithTestCa(['--test', '--test-concurrency=2', ...files])
