/**
 * The runner `npm test` (scripts/test.ts) starts under the test CA: node:test's run() on the files in
 * the order given, `concurrency` at a time, each file bounded by `timeoutMs`. Not `node --test` itself,
 * which in Node 20 sorts its files by path whatever the order on its command line. Reports on stdout
 * (spec on a terminal, TAP otherwise) and each file's duration in `durationsFile`; exits 1 when a test fails.
 *
 *   node --import tsx scripts/run-test-files.ts <concurrency> <timeoutMs> <durationsFile> <file>...
 */
import { createWriteStream } from 'node:fs'
import { run } from 'node:test'
import { spec, tap } from 'node:test/reporters'
import fileDurations from './file-durations.ts'

const [concurrency, timeoutMs, durationsFile, ...files] = process.argv.slice(2)
if (!durationsFile || files.length === 0) {
  console.error('usage: run-test-files.ts <concurrency> <timeoutMs> <durationsFile> <file>...')
  process.exit(2)
}
const tests = run({ files, concurrency: Number(concurrency), timeout: Number(timeoutMs) })
tests.on('test:fail', () => {
  process.exitCode = 1
})
tests.compose(process.stdout.isTTY ? new spec() : tap).pipe(process.stdout)
tests.compose(fileDurations).pipe(createWriteStream(durationsFile))
