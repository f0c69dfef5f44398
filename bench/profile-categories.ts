/**
 * Sorts a V8 CPU profile's samples into named categories, for the benches that say where a request's
 * server-thread time goes (profile-mint.ts, profile-ledger.ts).
 */
import type { Profiler } from 'node:inspector/promises'

/** `[name, pattern]`: the first is the background category, matched by any frame of a stack. */
export type Categories = [string, RegExp][]

/**
 * The category of a sample: background by any frame; otherwise the innermost frame that names a
 * category, else `fallback`. Leaf first, because callback-style hooks run what follows them (the body's
 * parse, the route) inside their own frames, so an outer frame says little about where the time went.
 */
function categoryOf(categories: Categories, stack: string[], fallback: string): string {
  const [background, ...rest] = categories
  if (stack.some((f) => background![1].test(f))) return background![0]
  for (const frame of stack) {
    const found = rest.find(([, pattern]) => pattern.test(frame))
    if (found) return found[0]
  }
  return fallback
}

/** Share of the thread's busy samples (idle and the profiler's own excluded) per category. */
export function categorise(profile: Profiler.Profile, categories: Categories, fallback: string): Map<string, number> {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const label = (id: number): string => {
    const f = nodes.get(id)!.callFrame
    return `${f.functionName || '(anonymous)'} ${f.url}`
  }
  const time = new Map<string, number>()
  let busy = 0
  profile.samples?.forEach((leaf, i) => {
    const dt = profile.timeDeltas?.[i] ?? 0
    const stack: string[] = []
    for (let id: number | undefined = leaf; id !== undefined; id = parent.get(id)) stack.push(label(id))
    if (/^\(idle\)/.test(stack[0]!) || stack.some((f) => /^post node:inspector/.test(f))) return
    busy += dt
    const category = categoryOf(categories, stack, fallback)
    time.set(category, (time.get(category) ?? 0) + dt)
  })
  return new Map([...time].map(([c, dt]) => [c, dt / busy]))
}
