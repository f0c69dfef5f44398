/**
 * The shape of the code, checked: no import cycle anywhere in packages/*\/src, the protocol's root
 * entry loads no dependency at all (browsers and the app kit import it), and no production module
 * reaches into tests.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'

const root = path.resolve(import.meta.dirname, '../../../..')
const SPECIFIER = /(?:^|\n)\s*(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name)
    if (statSync(full).isDirectory()) sourceFiles(full, out)
    else if (/\.(ts|mts|mjs)$/.test(name) && !name.endsWith('.d.ts')) out.push(full)
  }
  return out
}

/** Each file's imports: relative ones resolved to files, bare ones as package names. */
function importsOf(file: string): { local: string[]; bare: string[] } {
  const text = readFileSync(file, 'utf8')
  const local: string[] = []
  const bare: string[] = []
  for (const m of text.matchAll(SPECIFIER)) {
    // `import type` erases at run time, but a type-only cycle is still a tangle: count it too.
    const spec = m[1] ?? m[2]
    if (!spec) continue
    if (spec.startsWith('.')) local.push(path.resolve(path.dirname(file), spec))
    else bare.push(spec)
  }
  return { local, bare }
}

const packages = readdirSync(path.join(root, 'packages'))
const files = packages.flatMap((p) => {
  const src = path.join(root, 'packages', p, 'src')
  try {
    return sourceFiles(src)
  } catch {
    return []
  }
})

describe('import graph of packages/*/src', () => {
  test('has no cycle', () => {
    const graph = new Map(files.map((f) => [f, importsOf(f).local.filter((d) => files.includes(d))]))
    const state = new Map<string, 'open' | 'done'>()
    const cycles: string[] = []
    const visit = (f: string, stack: string[]): void => {
      if (state.get(f) === 'done') return
      if (state.get(f) === 'open') {
        cycles.push([...stack.slice(stack.indexOf(f)), f].map((x) => path.relative(root, x)).join(' → '))
        return
      }
      state.set(f, 'open')
      for (const d of graph.get(f) ?? []) visit(d, [...stack, f])
      state.set(f, 'done')
    }
    for (const f of files) visit(f, [])
    assert.deepEqual(cycles, [])
  })

  test("@voxgate/protocol's root entry imports no package (no zod in a browser bundle)", () => {
    const seen = new Set<string>()
    const bare = new Set<string>()
    const walk = (f: string) => {
      if (seen.has(f)) return
      seen.add(f)
      const { local, bare: b } = importsOf(f)
      for (const spec of b) bare.add(spec)
      // Type-only re-exports load nothing at run time.
      const text = readFileSync(f, 'utf8')
      for (const d of local) if (!new RegExp(`export type \\* from '\\./${path.basename(d)}'`).test(text)) walk(d)
    }
    walk(path.join(root, 'packages/protocol/src/index.ts'))
    assert.deepEqual([...bare], [])
  })

  test('no production module imports from a test folder', () => {
    const offenders = files.filter((f) => importsOf(f).local.some((d) => d.split(path.sep).includes('test')))
    assert.deepEqual(
      offenders.map((f) => path.relative(root, f)),
      [],
    )
  })
})
