/**
 * `npm run docs`: writes the generated pages of docs/ from the code they describe (the option table,
 * the config schema, the error catalogues). packages/server/test/docs/generated-docs.test.ts fails
 * when a committed page differs from what this would write.
 */
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { GENERATED_PAGES } from './docs/pages.ts'

const root = path.resolve(import.meta.dirname, '..')
for (const [file, render] of Object.entries(GENERATED_PAGES)) {
  writeFileSync(path.join(root, file), render())
  console.log(`wrote ${file}`)
}
