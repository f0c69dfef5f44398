/**
 * The checker behind import-graph.test.ts: reads the server's module graph and says where it breaks the
 * LAYERS table (src/layers.ts). Pure functions over a graph, so the test can also run them on a tiny
 * graph with a known violation and see them fail.
 *
 * A unit is a folder directly under src, or a file directly under src (`context.ts`). Every import
 * counts as an edge: `import`, `import type`, `export … from`, `import()` (also inside a type, as in
 * `typeof import('./x.ts')`) — a type-only import still ties the importer to the imported folder's
 * shape, and the layers are about what a reader must know, not only what loads at run time.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import ts from 'typescript'

/** A layer as checkLayers reads it (src/layers.ts's Layer, or a test's). */
export interface Layer {
  readonly name: string
  readonly units: readonly string[]
}

/** Module → the modules it imports, both as paths relative to src with '/' separators. */
export type ModuleGraph = ReadonlyMap<string, readonly string[]>

export interface LayerReport {
  /** Units (folders or top-level files) found in src that no layer names. */
  readonly unassigned: string[]
  /** Units named by two layers, or by one layer twice. */
  readonly assignedTwice: string[]
  /** Units a layer names that src does not hold (the table went stale). */
  readonly missing: string[]
  /** `importer → imported (importer's layer < imported's layer)`. */
  readonly upward: string[]
  /** `a ↔ b`: two units each importing the other, sorted. */
  readonly mutualPairs: string[]
  /** Module cycles, each as `a → b → a`. */
  readonly cycles: string[]
}

/** Every specifier a module imports, as the TypeScript scanner sees them (comments and strings skipped). */
export function allSpecifiers(text: string): string[] {
  return ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName)
}

/** The relative specifiers a module imports: the edges of the graph (packages are not). */
export function importSpecifiers(text: string): string[] {
  return allSpecifiers(text).filter((s) => s.startsWith('.'))
}

export function unitOf(module: string): string {
  const slash = module.indexOf('/')
  return slash === -1 ? module : module.slice(0, slash)
}

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name)
    if (statSync(full).isDirectory()) sourceFiles(full, out)
    else if (/\.(ts|mts|mjs)$/.test(name)) out.push(full)
  }
  return out
}

/**
 * Every module under `srcDir` and the modules it imports inside `srcDir` (with `keepOutside`, also
 * the files it imports outside, as `../…`).
 */
export function readModuleGraph(srcDir: string, options: { keepOutside?: boolean } = {}): Map<string, string[]> {
  const files = sourceFiles(srcDir)
  const rel = (f: string) => path.relative(srcDir, f).split(path.sep).join('/')
  const known = new Set(files.map(rel))
  const graph = new Map<string, string[]>()
  for (const file of files) {
    const deps = importSpecifiers(readFileSync(file, 'utf8'))
      .map((s) => rel(path.resolve(path.dirname(file), s)))
      .filter((d) => known.has(d) || (options.keepOutside === true && d.startsWith('../')))
    graph.set(rel(file), [...new Set(deps)])
  }
  return graph
}

/** The units present in a graph: folders and top-level files. */
export function unitsOf(graph: ModuleGraph): Set<string> {
  return new Set([...graph.keys()].map(unitOf))
}

export function findCycles(graph: ModuleGraph): string[] {
  const state = new Map<string, 'open' | 'done'>()
  const cycles: string[] = []
  const visit = (m: string, stack: string[]): void => {
    if (state.get(m) === 'done') return
    if (state.get(m) === 'open') {
      cycles.push([...stack.slice(stack.indexOf(m)), m].join(' → '))
      return
    }
    state.set(m, 'open')
    for (const d of graph.get(m) ?? []) visit(d, [...stack, m])
    state.set(m, 'done')
  }
  for (const m of [...graph.keys()].sort()) visit(m, [])
  return cycles
}

/** Unit → the units it imports (itself excluded), with one example module edge each. */
export function unitEdges(graph: ModuleGraph): Map<string, Map<string, string>> {
  const edges = new Map<string, Map<string, string>>()
  for (const [m, deps] of graph) {
    for (const d of deps) {
      const [from, to] = [unitOf(m), unitOf(d)]
      if (from === to) continue
      const out = edges.get(from) ?? new Map<string, string>()
      if (!out.has(to)) out.set(to, `${m} → ${d}`)
      edges.set(from, out)
    }
  }
  return edges
}

export function checkLayers(graph: ModuleGraph, layers: readonly Layer[]): LayerReport {
  const present = unitsOf(graph)
  const layerOf = new Map<string, number>()
  const assignedTwice: string[] = []
  layers.forEach((layer, i) => {
    for (const unit of layer.units) {
      if (layerOf.has(unit)) assignedTwice.push(unit)
      layerOf.set(unit, i)
    }
  })
  const unassigned = [...present].filter((u) => !layerOf.has(u)).sort()
  const missing = [...layerOf.keys()].filter((u) => !present.has(u)).sort()

  const upward: string[] = []
  for (const [m, deps] of graph) {
    const from = layerOf.get(unitOf(m))
    for (const d of deps) {
      const to = layerOf.get(unitOf(d))
      if (from === undefined || to === undefined || to <= from) continue
      upward.push(`${m} → ${d} (${layers[from]?.name} imports ${layers[to]?.name})`)
    }
  }

  const edges = unitEdges(graph)
  const mutualPairs: string[] = []
  for (const [from, out] of edges) {
    for (const to of out.keys()) {
      if (from < to && edges.get(to)?.has(from)) {
        mutualPairs.push(`${from} ↔ ${to} (${out.get(to)}; ${edges.get(to)?.get(from)})`)
      }
    }
  }

  return {
    unassigned,
    assignedTwice,
    missing,
    upward: upward.sort(),
    mutualPairs: mutualPairs.sort(),
    cycles: findCycles(graph),
  }
}
