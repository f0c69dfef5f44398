/**
 * A node:test reporter for `npm test`: one line a test file, its wall time in seconds, slowest first,
 * written when the run ends (to test-artifacts/file-durations.txt), so the suite's 5-minute budget
 * can be watched file by file without rerunning anything. `nameOf` names a file as the report shows
 * it (a bundle's source).
 */
import type { TestEvent } from 'node:test/reporters'

export const fileDurations = (nameOf: (file: string) => string) =>
  async function* durations(source: AsyncIterable<TestEvent>): AsyncGenerator<string> {
    const files: { file: string; seconds: number; failed: boolean }[] = []
    for await (const event of source) {
      if ((event.type === 'test:pass' || event.type === 'test:fail') && event.data.nesting === 0 && event.data.file) {
        // A file's top-level tests and suites run one after another: summed, they are the file's time
        // (its loading aside). A file that fails to load reports once, under its own name.
        const seconds = (event.data.details?.duration_ms ?? 0) / 1000
        const failed = event.type === 'test:fail'
        const file = nameOf(event.data.file)
        const known = files.find((f) => f.file === file)
        if (known) {
          known.seconds += seconds
          known.failed ||= failed
        } else files.push({ file, seconds, failed })
      }
    }
    files.sort((a, b) => b.seconds - a.seconds)
    for (const f of files) yield `${f.seconds.toFixed(1).padStart(7)} s  ${f.failed ? 'FAIL ' : ''}${f.file}\n`
  }
