/**
 * The shape of the code, checked: the server keeps to its layers (src/layers.ts: no import of a higher
 * layer, no two folders importing each other), no import cycle anywhere in packages/*\/src, the
 * protocol's root entry loads no dependency at all (browsers and the app kit import it), and no
 * production module reaches into tests.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { LAYERS } from '../../src/layers.ts'
import {
  allSpecifiers,
  checkLayers,
  findCycles,
  importSpecifiers,
  type ModuleGraph,
  readModuleGraph,
} from './layer-check.ts'

const root = path.resolve(import.meta.dirname, '../../../..')
const serverSrc = path.join(root, 'packages/server/src')

const sources = readdirSync(path.join(root, 'packages'))
  .map((p) => path.join(root, 'packages', p, 'src'))
  .filter((src) => {
    try {
      return readdirSync(src).length > 0
    } catch {
      return false
    }
  })

describe('the server keeps to its layers (src/layers.ts)', () => {
  const report = checkLayers(readModuleGraph(serverSrc), LAYERS)

  test('every folder and top-level file of src is in exactly one layer, and every unit named exists', () => {
    assert.deepEqual(
      { unassigned: report.unassigned, assignedTwice: report.assignedTwice, missing: report.missing },
      { unassigned: [], assignedTwice: [], missing: [] },
    )
  })

  test('no module imports a higher layer', () => {
    assert.deepEqual(report.upward, [])
  })

  test('no two units import each other', () => {
    assert.deepEqual(report.mutualPairs, [])
  })

  test('no module cycle', () => {
    assert.deepEqual(report.cycles, [])
  })

  test("docs/development.md's Layers table is this table", () => {
    const cells = (row: string) =>
      row
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim())
    const doc = readFileSync(path.join(root, 'docs/development.md'), 'utf8')
    const section = doc.slice(doc.indexOf('## Layers'), doc.indexOf('\n## ', doc.indexOf('## Layers') + 1))
    const rows = section
      .split('\n')
      .filter((l) => l.startsWith('|'))
      .slice(2)
      .map(cells)
    assert.deepEqual(
      rows,
      LAYERS.map((l) => [l.name, l.holds, l.units.map((u) => `\`${u}\``).join(', ')]),
    )
  })
})

describe('the layer checker, on a graph made up here', () => {
  const layers = [
    { name: 'low', units: ['a', 'b'] },
    { name: 'high', units: ['c', 'top.ts', 'ghost'] },
  ]
  const graph: ModuleGraph = new Map([
    ['a/one.ts', ['b/two.ts', 'c/three.ts']],
    ['b/two.ts', ['a/other.ts']],
    ['a/other.ts', []],
    ['c/three.ts', ['a/one.ts', 'top.ts']],
    ['top.ts', ['c/three.ts']],
    ['stray/x.ts', []],
  ])
  const report = checkLayers(graph, layers)

  test('finds the upward import, the mutual pairs, the cycle, the unassigned and the missing unit', () => {
    assert.deepEqual(report, {
      unassigned: ['stray'],
      assignedTwice: [],
      missing: ['ghost'],
      upward: ['a/one.ts → c/three.ts (low imports high)'],
      mutualPairs: [
        'a ↔ b (a/one.ts → b/two.ts; b/two.ts → a/other.ts)',
        'a ↔ c (a/one.ts → c/three.ts; c/three.ts → a/one.ts)',
        'c ↔ top.ts (c/three.ts → top.ts; top.ts → c/three.ts)',
      ],
      cycles: ['a/one.ts → c/three.ts → a/one.ts', 'c/three.ts → top.ts → c/three.ts'],
    })
  })

  test('finds a unit named by two layers', () => {
    assert.deepEqual(
      checkLayers(new Map([['a/x.ts', []]]), [...layers, { name: 'again', units: ['a'] }]).assignedTwice,
      ['a'],
    )
  })

  test('reads every kind of import, type-only ones too, and none in comments or strings', () => {
    const text = [
      "import type { A } from './a.ts'",
      "import { b } from '../b.ts'",
      "export { c } from './c.ts'",
      "export * from './d.ts'",
      "const e = await import('./e.ts')",
      "type F = typeof import('./f.ts')",
      "import './g.ts'",
      "import { h } from 'package-h'",
      "// import { i } from './i.ts'",
      'const j = "import { j } from \'./j.ts\'"',
    ].join('\n')
    assert.deepEqual(importSpecifiers(text), ['./a.ts', '../b.ts', './c.ts', './d.ts', './e.ts', './f.ts', './g.ts'])
  })
})

describe('import graph of packages/*/src', () => {
  test('has no cycle', () => {
    const cycles = sources.flatMap((src) =>
      findCycles(readModuleGraph(src)).map((c) => `${path.relative(root, src)}: ${c}`),
    )
    assert.deepEqual(cycles, [])
  })

  test("@voxgate/protocol's root entry imports no package (no zod in a browser bundle)", () => {
    const seen = new Set<string>()
    const bare = new Set<string>()
    const walk = (f: string) => {
      if (seen.has(f)) return
      seen.add(f)
      const text = readFileSync(f, 'utf8')
      for (const spec of allSpecifiers(text)) {
        if (!spec.startsWith('.')) bare.add(spec)
        // Type-only re-exports load nothing at run time.
        else if (!text.includes(`export type * from '${spec}'`)) walk(path.resolve(path.dirname(f), spec))
      }
    }
    walk(path.join(root, 'packages/protocol/src/index.ts'))
    assert.deepEqual([...bare], [])
  })

  test('no production module imports from a test folder', () => {
    const offenders = sources.flatMap((src) =>
      [...readModuleGraph(src, { keepOutside: true })]
        .filter(([, deps]) => deps.some((d) => d.split('/').includes('test')))
        .map(([m]) => path.relative(root, path.join(src, m))),
    )
    assert.deepEqual(offenders, [])
  })
})
