import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { documentedPages, REPO_ROOT } from './shell-blocks.ts'

const README_MAX_LINES = 200
const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8')

test(`README.md stays a front page: at most ${README_MAX_LINES} lines`, () => {
  const lines = readme.trimEnd().split('\n').length
  assert.ok(lines <= README_MAX_LINES, `README.md has ${lines} lines: move the detail to a page of docs/`)
})

test("README.md's map links every page of docs/", () => {
  const unlinked = documentedPages()
    .filter((page) => page !== 'README.md')
    .filter((page) => !readme.includes(`](${page})`) && !readme.includes(`](${page}#`))
  assert.deepEqual(unlinked, [])
})
