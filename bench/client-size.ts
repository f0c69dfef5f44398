/**
 * Size of the browser SDK: packages/client/src/index.ts bundled for the browser with esbuild,
 * minified, then gzipped. Target: under 15 kB gzipped (zod must never land in it: the client imports
 * protocol TYPES only).
 */
import path from 'node:path'
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'

export async function clientBundleSize(): Promise<{ minified: number; gzipped: number }> {
  const entry = path.resolve(import.meta.dirname, '../packages/client/src/index.ts')
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  })
  const code = result.outputFiles[0]?.contents ?? new Uint8Array(0)
  return { minified: code.byteLength, gzipped: gzipSync(code, { level: 9 }).byteLength }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { minified, gzipped } = await clientBundleSize()
  console.log(`client bundle: ${minified} B minified, ${gzipped} B gzipped (target < 15360 B)`)
}
