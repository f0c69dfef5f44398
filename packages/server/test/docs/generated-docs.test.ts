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

/** The cells of each table row of a page, trimmed (`| a | b |` → `['a', 'b']`). */
const tableRows = (page: string): string[][] =>
  page
    .split('\n')
    .filter((l) => l.startsWith('| '))
    .map((l) =>
      l
        .slice(2, -2)
        .split(/ (?<!\\)\| /)
        .map((c) => c.trim()),
    )

describe('generated docs pages', () => {
  for (const [file, render] of Object.entries(GENERATED_PAGES)) {
    test(`${file} is what \`npm run docs\` writes from the source today`, () => {
      assert.equal(committed(file), render(), `${file} has drifted from its source: run \`npm run docs\` and commit it`)
    })
  }

  test('docs/errors.md has a row, with its status, for every catalogue code', () => {
    const rows = tableRows(committed('docs/errors.md'))
    for (const [code, { status }] of Object.entries(ERROR_CATALOGUE)) {
      const row = rows.find((r) => r[0] === `\`${code}\`` && r.length === 4)
      assert.ok(row, code)
      assert.equal(row[1], String(status), code)
      assert.ok(row[3]!.length > 10, `${code} has no meaning and fix`)
    }
  })

  test('docs/configuration.md names every serve option with its environment variable', () => {
    const rows = tableRows(committed('docs/configuration.md'))
    for (const o of SERVE_OPTIONS) {
      const row = rows.find((r) => r[1] === `\`${envName(o)}\``)
      assert.ok(row, envName(o))
      assert.equal(row[0], o.flag ? `\`--${o.flag}${o.arg ? ` ${o.arg}` : ''}\`` : 'environment only', envName(o))
    }
  })
})
