/**
 * The runner `npm test` (scripts/test.ts) starts under the test CA: node:test's run() on the files in
 * the order given, `concurrency` at a time, each file bounded by `timeoutMs`. Not `node --test` itself,
 * which in Node 20 sorts its files by path whatever the order on its command line. Reports on stdout
 * (spec on a terminal, TAP otherwise) and each file's duration in `durationsFile`; exits 1 when a test fails.
 * With `bundleDir` (scripts/bundle-tests.ts), the files are bundles made there, and the durations name
 * their sources; `-` when the files are the sources themselves.
 *
 *   node scripts/run-test-files.mjs <concurrency> <timeoutMs> <durationsFile> <bundleDir|-> <file>...
 */
import { createWriteStream } from 'node:fs'
import { run } from 'node:test'
import { spec, tap } from 'node:test/reporters'
import path from 'node:path'
import { sourcePathOf } from './bundle-paths.ts'
import { fileDurations } from './file-durations.ts'

const [concurrency, timeoutMs, durationsFile, bundleDir, ...files] = process.argv.slice(2)
if (!durationsFile || !bundleDir || files.length === 0) {
  console.error('usage: run-test-files <concurrency> <timeoutMs> <durationsFile> <bundleDir|-> <file>...')
  process.exit(2)
}
const root = path.resolve(import.meta.dirname, '..')
const nameOf = (file: string) => (bundleDir === '-' ? file : sourcePathOf(root, bundleDir, file))
const tests = run({ files, concurrency: Number(concurrency), timeout: Number(timeoutMs) })
tests.on('test:fail', () => {
  process.exitCode = 1
})
tests.compose(process.stdout.isTTY ? new spec() : tap).pipe(process.stdout)
tests.compose(fileDurations(nameOf)).pipe(createWriteStream(durationsFile))
