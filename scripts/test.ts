/**
 * `npm test`: runs every `*.test.ts` with Node's test runner under a fresh test CA (scripts/test-ca.ts).
 * Arguments filter the files by path substring: `npm test -- websocket`. The files run bundled
 * (scripts/bundle-tests.ts says why); `VOXGATE_TEST_BUNDLE=0` runs them through tsx instead.
 * Tests import the TypeScript source, but the CLI tests and the packaging test run the built dist/,
 * so the packages are built first (incremental: well under a second when nothing changed).
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import path from 'node:path'
import { prepareTestCa, spawnWithTestCa } from './test-ca.ts'
import { buildConsole } from './build-console.ts'
import { bundleTests } from './bundle-tests.ts'

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

/**
 * The files that take longest on a quiet 2-core machine, about longest first (test-artifacts/file-durations.txt
 * after a full run; a path suffix each), the speech-recognition files, which need the CPU throughout,
 * spaced by files that mostly wait. run-test-files.ts starts files in the order given: these start at once
 * and the short files fill the cores around them, instead of a long file starting late and ending the
 * run alone. Every other file follows, in path order. A new file that takes over half a minute
 * belongs here, at its place.
 */
const LONGEST_FIRST = [
  'packaging/pack-install',
  'stt/decoder-bombs',
  'cluster/three-instances',
  'stt/recognition',
  'docs/quick-start',
  'stt/decoder-state',
  'security/aborts',
  'openai/transcriptions',
  'console/console-admin-browser',
  'server/test/cli',
  'cli-store',
  'stt/turns',
  'client/test/listen',
  'stt/cartesia-sdk-stt',
  'quotas/quotas',
  'stt/upload-formats',
  'client/test/listen-browser',
  'sdk/cartesia-sdk',
  'gateway/fallback-stt-ws',
  'cluster/durable-budgets',
  'sdk/markup-sdk',
  'gateway/chain',
  'stt/limits',
  'stt/calibration-file',
  'cli-start',
  'security/attack-suite',
  'stt/fuzz',
  'security/fuzz',
  'stt/routes',
  'tts/engines',
  'e2e-cookie',
  'e2e-memory',
  'client/test/browser',
  'speak-integration',
].map((suffix) => `${suffix}.test.ts`)

/** Where `file` starts: its place in LONGEST_FIRST, or after all of them. */
const startRank = (file: string): number => {
  const rank = LONGEST_FIRST.findIndex((suffix) => file.endsWith(`/${suffix}`))
  return rank === -1 ? LONGEST_FIRST.length : rank
}

const filters = process.argv.slice(2)
const files = ['packages', 'examples']
  .flatMap((d) => findTests(path.join(root, d)))
  .sort()
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort((a, b) => startRank(a) - startRank(b))
if (files.length === 0) {
  console.error('no test files matched')
  process.exit(1)
}
// The run's CA and STT calibration (a recogniser's worker) go on beside the build and the bundling below.
const ca = prepareTestCa({ calibrateStt: true })
// A rejection is awaited where the runner starts; until then it must not end the process as unhandled.
ca.catch(() => {})
const tsc = path.join(root, 'node_modules/typescript/bin/tsc')
if (spawnSync(process.execPath, [tsc, '-b', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' }).status !== 0) {
  console.error('scripts/test.ts: `npm run build` failed; tests that run dist/ may see an old build')
}
// The console's static files (the server serves them with --console); skipped when unchanged.
await buildConsole()
/**
 * Every test file ends within this (the timeout of node:test's run(), which each file's test inherits;
 * in Node 20 it bounds the file's process as a whole), whatever it waits on: a hang is a failure
 * naming the file, not a suite that never ends. The slowest files take about two minutes on a loaded
 * 2-core runner.
 */
const TEST_TIMEOUT_MS = 300_000
/**
 * Files running at once: three a core. Most files spend most of their time waiting (servers starting,
 * tokens expiring, audio paced in real time, PostgreSQL): their wall time added up is about three
 * times their CPU time, so with two a core the run was bound by the waits, not by the cores (4:57 with
 * six on a 2-core machine, where four needed more; scripts/bundle-tests.ts took the rest of the fixed
 * cost off each file). Many more would only stretch the files that need the CPU (speech recognition,
 * Chromium, tsc) against each other. `VOXGATE_TEST_FILE_CONCURRENCY` sets another number, to measure a
 * machine's best one.
 */
const FILE_CONCURRENCY = Number(process.env.VOXGATE_TEST_FILE_CONCURRENCY) || 3 * availableParallelism()
const durations = path.join(root, 'test-artifacts', 'file-durations.txt')
mkdirSync(path.dirname(durations), { recursive: true })
const runner = path.join(root, 'scripts', 'run-test-files.ts')
const settings = [String(FILE_CONCURRENCY), String(TEST_TIMEOUT_MS), durations]
let tests: number
if (process.env.VOXGATE_TEST_BUNDLE === '0') {
  tests = await spawnWithTestCa([runner, ...settings, '-', ...files], { ca })
} else {
  // The runner too, so that node:test's children inherit no tsx: they take the runner's own flags.
  // A folder of this run's own: two runs at once in one checkout (`npm test -- a` beside a full run)
  // must not remove each other's bundles.
  mkdirSync(path.join(root, 'test-artifacts'), { recursive: true })
  const bundles = mkdtempSync(path.join(root, 'test-artifacts', 'bundles-'))
  try {
    const [runnerBundle, ...fileBundles] = await bundleTests(root, bundles, [runner, ...files])
    tests = await spawnWithTestCa([runnerBundle!, ...settings, bundles, ...fileBundles], {
      execArgv: ['--enable-source-maps'],
      ca,
    })
  } finally {
    rmSync(bundles, { recursive: true, force: true })
  }
}
process.exit(tests)
