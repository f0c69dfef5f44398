import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { ERROR_CATALOGUE } from '@voxgate/protocol'
import { SERVE_OPTIONS } from '../../src/cli/option-table.ts'
import { envName } from '../../src/cli/options.ts'
import { GENERATED_PAGES } from '../../../../scripts/docs/pages.ts'

const root = path.resolve(import.meta.dirname, '../../../..')
const committed = (file: string) => readFileSync(path.join(root, file), 'utf8')

describe('generated docs pages', () => {
  for (const [file, render] of Object.entries(GENERATED_PAGES)) {
    test(`${file} is what \`npm run docs\` writes from the source today`, () => {
      assert.equal(committed(file), render(), `${file} has drifted from its source: run \`npm run docs\` and commit it`)
    })
  }

  test('docs/errors.md has a row, with its status, for every catalogue code', () => {
    const page = committed('docs/errors.md')
    for (const [code, { status }] of Object.entries(ERROR_CATALOGUE))
      assert.match(page, new RegExp(`^\\| \`${code}\` \\| ${status} \\| .+ \\| \\S.+ \\|$`, 'm'), code)
  })

  test('docs/configuration.md names every serve option with its environment variable', () => {
    const page = committed('docs/configuration.md')
    for (const o of SERVE_OPTIONS) {
      const row = page.split('\n').find((l) => l.includes(`| \`${envName(o)}\` |`))
      assert.ok(row, envName(o))
      if (o.flag) assert.ok(row.startsWith(`| \`--${o.flag}`), `${o.flag}: ${row}`)
    }
  })
})
