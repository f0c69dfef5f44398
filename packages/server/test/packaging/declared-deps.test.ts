/**
 * Every package a workspace's source imports is declared in that workspace's package.json, and no
 * source file reaches into another workspace by relative path: inside the repository a missing
 * declaration still resolves (hoisted node_modules, tsconfig paths), so only this test notices.
 */
import assert from 'node:assert/strict'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { builtinModules } from 'node:module'
import path from 'node:path'
import { test } from 'node:test'
import ts from 'typescript'

const ROOT = path.resolve(import.meta.dirname, '../../../..')
const WORKSPACES = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { workspaces: string[] })
  .workspaces

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name)
    if (statSync(full).isDirectory()) sourceFiles(full, out)
    else if (/\.(ts|mts|mjs|js)$/.test(name) && !name.endsWith('.d.ts')) out.push(full)
  }
  return out
}

/** `@scope/name/sub` → `@scope/name`; `name/sub` → `name`. */
const packageOf = (specifier: string): string =>
  specifier
    .split('/')
    .slice(0, specifier.startsWith('@') ? 2 : 1)
    .join('/')

for (const workspace of WORKSPACES) {
  test(`${workspace}: imports only what it declares, and no other workspace by path`, () => {
    const dir = path.join(ROOT, workspace)
    const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
      name: string
      dependencies?: Record<string, string>
      peerDependencies?: Record<string, string>
    }
    const declared = new Set([
      manifest.name,
      ...Object.keys(manifest.dependencies ?? {}),
      ...Object.keys(manifest.peerDependencies ?? {}),
    ])
    const problems: string[] = []
    for (const file of sourceFiles(path.join(dir, 'src'))) {
      // The tsx loader is a source-mode (test) concern of this one file; built JavaScript never loads it.
      if (file.endsWith(path.join('tts', 'worker-boot.mjs'))) continue
      for (const { fileName: specifier } of ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles) {
        const where = path.relative(ROOT, file)
        if (specifier.startsWith('.')) {
          if (!path.resolve(path.dirname(file), specifier).startsWith(dir + path.sep))
            problems.push(`${where}: ${specifier} leaves ${workspace}`)
        } else if (
          !specifier.startsWith('node:') &&
          !builtinModules.includes(specifier) &&
          !declared.has(packageOf(specifier))
        ) {
          problems.push(`${where}: ${packageOf(specifier)} is not in dependencies`)
        }
      }
    }
    assert.deepEqual(problems, [])
  })
}
