import path from 'node:path'
import { build } from 'esbuild'

export interface Bundle {
  /** `/assets/<name>.js` → JavaScript. */
  files: ReadonlyMap<string, string>
}

const entries = ['sign-in', 'speak']

/** Bundles the browser code (and the client SDK it imports) once, at start: ESM for browsers. */
export async function bundleBrowserCode(): Promise<Bundle> {
  const dir = path.join(import.meta.dirname, 'browser')
  const result = await build({
    entryPoints: entries.map((name) => path.join(dir, `${name}.ts`)),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    outdir: '/assets',
    write: false,
    minify: false,
    sourcemap: false,
    logLevel: 'silent',
  })
  const files = new Map<string, string>()
  for (const file of result.outputFiles) files.set(`/assets/${path.basename(file.path)}`, file.text)
  return { files }
}
