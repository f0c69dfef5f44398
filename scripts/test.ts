/**
 * `npm test`: runs every `*.test.ts` with Node's test runner under a fresh test CA (scripts/test-ca.ts).
 * Arguments filter the files by path substring: `npm test -- websocket`.
 * Tests import the TypeScript source, but the CLI tests and the packaging test run the built dist/,
 * so the packages are built first (incremental: well under a second when nothing changed).
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync, readdirSync, statSync } from 'node:fs'
import path from 'node:path'
import { runWithTestCa } from './test-ca.ts'
import { buildConsole } from './build-console.ts'

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
const files = ['packages', 'examples']
  .flatMap((d) => findTests(path.join(root, d)))
  .sort()
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
if (files.length === 0) {
  console.error('no test files matched')
  process.exit(1)
}
const tsc = path.join(root, 'node_modules/typescript/bin/tsc')
if (spawnSync(process.execPath, [tsc, '-b', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' }).status !== 0) {
  console.error('scripts/test.ts: `npm run build` failed; tests that run dist/ may see an old build')
}
// The console's static files (the server serves them with --console); skipped when unchanged.
await buildConsole()
/**
 * Every test ends within this (node:test's per-test timeout), whatever it waits on: a hang is a
 * failure naming the test, not a suite that never ends. The slowest tests take about a minute on a
 * loaded 2-core runner (several servers started from the CLI).
 */
const TEST_TIMEOUT_MS = 300_000
const durations = path.join(root, 'test-artifacts', 'file-durations.txt')
mkdirSync(path.dirname(durations), { recursive: true })
await runWithTestCa([
  '--test',
  '--test-concurrency=2',
  `--test-timeout=${TEST_TIMEOUT_MS}`,
  // What node:test would pick by itself (spec on a terminal), plus the per-file durations.
  `--test-reporter=${process.stdout.isTTY ? 'spec' : 'tap'}`,
  '--test-reporter-destination=stdout',
  `--test-reporter=${path.join(root, 'scripts', 'file-durations.mjs')}`,
  `--test-reporter-destination=${durations}`,
  ...files,
])
