import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'

/** The repository root, where README.md and docs/ live. */
export const REPO_ROOT = path.resolve(import.meta.dirname, '../../../..')

/** A fenced shell block of a Markdown page, with where it is and what the page says about it. */
export interface ShellBlock {
  /** From the repository root: `README.md`, `docs/cluster.md`. */
  file: string
  /** 1-based line of the opening fence. */
  line: number
  /** The heading the block sits under (its text, without the `#`s). */
  section: string
  text: string
  /** The reason given by a `<!-- not run in tests: reason -->` just before the block, if any. */
  notRunReason?: string
}

const SHELL_LANGS = new Set(['sh', 'bash', 'shell', 'console', 'zsh'])
const NOT_RUN = /^<!-- not run in tests: (.+) -->$/

/** Every Markdown page whose commands must run as written: README.md and everything under docs/. */
export function documentedPages(): string[] {
  const docs = readdirSync(path.join(REPO_ROOT, 'docs'), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.md'))
    .map((f) => path.join('docs', f))
  return ['README.md', ...docs.sort()]
}

/** The shell blocks of one page (```sh, ```bash, ```shell, ```console), in order. */
export function shellBlocks(file: string): ShellBlock[] {
  const lines = readFileSync(path.join(REPO_ROOT, file), 'utf8').split('\n')
  const blocks: ShellBlock[] = []
  let section = ''
  for (let i = 0; i < lines.length; i++) {
    const heading = /^#+ (.+)$/.exec(lines[i]!)
    if (heading) section = heading[1]!
    const fence = /^(`{3,})(\S*)\s*$/.exec(lines[i]!)
    if (!fence) continue
    const end = lines.findIndex((l, j) => j > i && l.startsWith(fence[1]!) && l.trim() === fence[1])
    if (end < 0) throw new Error(`${file}:${i + 1}: unclosed code fence`)
    if (SHELL_LANGS.has(fence[2]!)) {
      const marker = NOT_RUN.exec(previousNonBlank(lines, i) ?? '')
      blocks.push({ file, line: i + 1, section, text: lines.slice(i + 1, end).join('\n'), notRunReason: marker?.[1] })
    }
    i = end
  }
  return blocks
}

function previousNonBlank(lines: string[], index: number): string | undefined {
  for (let j = index - 1; j >= 0; j--) if (lines[j]!.trim() !== '') return lines[j]!.trim()
  return undefined
}

/** The blocks of `file` under the heading `section` that are meant to run. */
export function runnableBlocks(file: string, section: string): ShellBlock[] {
  const blocks = shellBlocks(file).filter((b) => b.section === section && b.notRunReason === undefined)
  if (blocks.length === 0) throw new Error(`${file}: no runnable shell block under "${section}"`)
  return blocks
}
