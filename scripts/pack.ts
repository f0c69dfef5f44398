/**
 * `npm run pack`: the four publishable packages as tarballs in dist-packs/ (emptied first, so a
 * glob over it never mixes versions), built first by each package's `prepack`. Until the packages are
 * on the registry, a project installs them from there in one command, protocol with the others
 * (they depend on it):
 *
 *   npm install /path/to/voxgate/dist-packs/*.tgz
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync, rmSync } from 'node:fs'
import path from 'node:path'

const root = path.resolve(import.meta.dirname, '..')
const PACKS_DIR = path.join(root, 'dist-packs')
const PACKAGES = ['packages/protocol', 'packages/server', 'packages/client', 'packages/app-kit']

rmSync(PACKS_DIR, { recursive: true, force: true })
mkdirSync(PACKS_DIR)
const packed = spawnSync(
  'npm',
  ['pack', '--json', '--pack-destination', PACKS_DIR, ...PACKAGES.flatMap((p) => ['-w', p])],
  { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
)
if (packed.status !== 0) process.exit(packed.status ?? 1)
const files = (JSON.parse(packed.stdout) as { filename: string }[]).map((p) => p.filename)
for (const file of files) console.log(path.join('dist-packs', file))
console.log(`\nInstall them into a project with: npm install ${PACKS_DIR}/*.tgz`)
