/**
 * The operator console's build (docs/console.md): a Vite build of packages/server/console/ into
 * packages/server/dist-console/, which @voxgate/server ships and serves at `/console/`. Skipped when
 * nothing it is made of changed: the hash of its inputs is kept in a stamp file next to the output.
 * `--print-size` prints the gzipped size of what a browser downloads (the bench reads it).
 */
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { gzipSync } from 'node:zlib'
import { build } from 'vite'

const root = path.resolve(import.meta.dirname, '..')
const source = path.join(root, 'packages/server/console')
export const CONSOLE_OUT = path.join(root, 'packages/server/dist-console')
const STAMP = path.join(CONSOLE_OUT, '.build-stamp')
/** Everything the bundle is made of: its source, the libraries it bundles from this repository, this script. */
const INPUTS = [
  source,
  path.join(root, 'packages/client/src'),
  path.join(root, 'packages/protocol/src'),
  // The names the console takes from the server (console/src/server-names.ts).
  path.join(root, 'packages/server/src/store/audit-types.ts'),
  path.join(root, 'packages/server/src/webhooks/events.ts'),
  path.join(root, 'packages/server/src/audit/reason.ts'),
]

function files(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const full = path.join(dir, name)
    if (statSync(full).isDirectory()) files(full, out)
    else out.push(full)
  }
  return out
}

function inputHash(): string {
  const hash = createHash('sha256')
  for (const file of [...INPUTS.flatMap((d) => (statSync(d).isDirectory() ? files(d) : [d])), import.meta.filename]) {
    hash.update(path.relative(root, file)).update('\0').update(readFileSync(file)).update('\0')
  }
  // The versions of the bundled libraries and of Vite itself.
  for (const pkg of ['vite', 'uplot'])
    hash.update(readFileSync(path.join(root, 'node_modules', pkg, 'package.json'), 'utf8'))
  return hash.digest('hex')
}

/** Builds the console unless the stamp says the output is already made of these inputs. */
export async function buildConsole(): Promise<'built' | 'unchanged'> {
  const hash = inputHash()
  if (existsSync(STAMP) && readFileSync(STAMP, 'utf8') === hash) return 'unchanged'
  await build({
    root: source,
    base: '/console/',
    configFile: false,
    logLevel: 'warn',
    resolve: {
      // Inside the repository the client is its source, as tsconfig.json's paths say.
      alias: [
        { find: /^@voxgate\/protocol$/, replacement: path.join(root, 'packages/protocol/src/index.ts') },
        { find: /^@voxgate\/client$/, replacement: path.join(root, 'packages/client/src/index.ts') },
      ],
    },
    build: {
      outDir: CONSOLE_OUT,
      emptyOutDir: true,
      target: 'es2022',
      // No inline script anywhere (the CSP forbids it) and no data: URLs.
      modulePreload: { polyfill: false },
      assetsInlineLimit: 0,
      reportCompressedSize: false,
    },
  })
  writeFileSync(STAMP, hash)
  return 'built'
}

/** Gzipped bytes of every file the console's pages load (HTML, scripts, styles). */
export function consoleGzipBytes(): number {
  let total = 0
  for (const file of files(CONSOLE_OUT))
    if (/\.(html|js|css)$/.test(file)) total += gzipSync(readFileSync(file), { level: 9 }).length
  return total
}

if (import.meta.filename === process.argv[1]) {
  const result = await buildConsole()
  console.log(`console: ${result} (${path.relative(root, CONSOLE_OUT)})`)
  if (process.argv.includes('--print-size'))
    console.log(`console bundle: ${(consoleGzipBytes() / 1024).toFixed(1)} kB gzipped`)
}
