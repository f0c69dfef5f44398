import path from 'node:path'

/** A bundle's path for a source file (scripts/bundle-tests.ts): the same relative path under `outDir`, `.ts` as `.mjs`. */
export function bundlePathOf(root: string, outDir: string, source: string): string {
  return path.join(outDir, path.relative(root, source)).replace(/\.ts$/, '.mjs')
}

/**
 * The source file a bundle was made from, for reports: the inverse of bundlePathOf. Paths outside
 * `outDir` are already sources (node:test names a file by its source-mapped location when it can).
 */
export function sourcePathOf(root: string, outDir: string, file: string): string {
  const relative = path.relative(outDir, file)
  if (relative.startsWith('..') || path.isAbsolute(relative)) return file
  return path.join(root, relative).replace(/\.mjs$/, '.ts')
}
