/**
 * Bundles test files for `npm test` (scripts/test.ts): each `*.test.ts` becomes one JavaScript entry, its
 * TypeScript (the test, its helpers, the packages' sources) compiled into it and into chunks the entries
 * share, its npm dependencies left as imports of the files Node would load anyway. A dynamic import
 * stays one: its chunk loads only in a file that runs it.
 *
 * Why: a file run through tsx pays for tsx's module hooks on every import (hundreds: Fastify, zod,
 * the server's own modules), about 0.8 s of CPU a file before its first test, which over the suite's
 * files is a fifth of `npm test` on two cores. A bundle is plain JavaScript, loaded without hooks.
 *
 * What the bundle keeps from the source: every module's `import.meta.url`, `dirname` and `filename`
 * are its source file's, so fixtures, assets and worker entry points (src/workers.ts: worker threads
 * still start from source, through tsx) are found where they are; `@voxgate/*` is the packages'
 * source, as tsconfig.json's paths say for tsc and tsx; npm packages resolve as Node resolves them
 * (esbuild with Node's `import` conditions) and are imported by absolute path, so each is the one copy
 * the rest of node_modules shares. Linked source maps (`--enable-source-maps`) put stack traces back
 * on the TypeScript lines.
 */
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { build, type Plugin } from 'esbuild'

import { bundlePathOf } from './bundle-paths.ts'

/** Each module's `import.meta` as its source file's, not the bundle's. */
const sourceMeta: Plugin = {
  name: 'source-import-meta',
  setup(b) {
    b.onLoad({ filter: /\.m?ts$/ }, async ({ path: file }) => {
      const source = await readFile(file, 'utf8')
      const contents = source
        .replaceAll('import.meta.url', JSON.stringify(pathToFileURL(file).href))
        .replaceAll('import.meta.dirname', JSON.stringify(path.dirname(file)))
        .replaceAll('import.meta.filename', JSON.stringify(file))
      return { contents, loader: 'ts' }
    })
  },
}

/** npm packages stay imports, by the absolute path Node would resolve; the repository's own code is bundled. */
const packagesByPath: Plugin = {
  name: 'packages-by-path',
  setup(b) {
    // An absolute path not on disk (`import('/sdk.js')` inside a function that runs in a browser): as written.
    b.onResolve({ filter: /^\// }, (args) => (existsSync(args.path) ? undefined : { path: args.path, external: true }))
    b.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.pluginData === 'inner' || args.kind === 'entry-point' || args.path.startsWith('node:')) return undefined
      const resolved = await b.resolve(args.path, {
        kind: args.kind,
        resolveDir: args.resolveDir,
        importer: args.importer,
        pluginData: 'inner',
      })
      if (resolved.errors.length > 0) return { path: args.path, external: true }
      if (!resolved.path.includes(`${path.sep}node_modules${path.sep}`)) return { path: resolved.path }
      return { path: resolved.path, external: true }
    })
  },
}

/** Bundles `files` (absolute paths under `root`) into `outDir`; returns the bundles' paths, in order. */
export async function bundleTests(root: string, outDir: string, files: readonly string[]): Promise<string[]> {
  await build({
    entryPoints: [...files],
    absWorkingDir: root,
    outbase: root,
    outdir: outDir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: 'linked',
    // The files share most of their code (the server, the helpers): split, it is written once as chunks
    // the files import, instead of once into every file (242 MB of bundles and maps, 10-35 s, against
    // 8 MB and 1-3 s).
    splitting: true,
    logLevel: 'warning',
    plugins: [sourceMeta, packagesByPath],
  })
  return files.map((f) => bundlePathOf(root, outDir, f))
}
