import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { documentedPages, REPO_ROOT } from './shell-blocks.ts'

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as dashes, repeats numbered. */
function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>()
  const anchors = new Set<string>()
  for (const line of withoutCode(markdown).split('\n')) {
    const heading = /^#{1,6} (.+)$/.exec(line)
    if (!heading) continue
    const slug = heading[1]!
      .toLowerCase()
      .replace(/[^\p{L}\p{N} _-]/gu, '')
      .replaceAll(' ', '-')
    const n = seen.get(slug) ?? 0
    seen.set(slug, n + 1)
    anchors.add(n === 0 ? slug : `${slug}-${n}`)
  }
  return anchors
}

const withoutCode = (markdown: string) => markdown.replace(/^(`{3,})[^\n]*\n[\s\S]*?^\1\s*$/gm, '')

/** Relative links (`[text](target)`) outside code: the page or file they name, and the anchor. */
function relativeLinks(markdown: string): { target: string; anchor?: string }[] {
  const links = []
  for (const m of withoutCode(markdown).matchAll(/\]\(([^)\s]+)\)/g)) {
    const href = m[1]!
    if (/^[a-z]+:/i.test(href)) continue
    const [target, anchor] = href.split('#') as [string, string | undefined]
    links.push({ target, anchor })
  }
  return links
}

test('every relative link in README.md and docs/ reaches a file, and its anchor a heading there', () => {
  const broken: string[] = []
  for (const page of documentedPages()) {
    const dir = path.dirname(path.join(REPO_ROOT, page))
    for (const { target, anchor } of relativeLinks(readFileSync(path.join(REPO_ROOT, page), 'utf8'))) {
      const file = target === '' ? path.join(REPO_ROOT, page) : path.resolve(dir, target)
      if (!existsSync(file)) broken.push(`${page}: ${target} does not exist`)
      else if (anchor && file.endsWith('.md') && !anchorsOf(readFileSync(file, 'utf8')).has(anchor))
        broken.push(`${page}: ${target}#${anchor} names no heading`)
    }
  }
  assert.deepEqual(broken, [])
})
