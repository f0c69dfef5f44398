import { readFileSync } from 'node:fs'
import type { ServerConfigInput } from '../config.ts'
import { parse, UsageError, type Options } from './args.ts'

/**
 * One row per option: its flag, its environment variable, how its text becomes a value, the config
 * field it sets and its help line. Flag parsing, the environment and `--help` are all derived from
 * the table, so an option is spelled once.
 */
export interface CliOption {
  /** Without the dashes; absent for a secret, which only the environment may carry (never `ps`). */
  flag?: string
  /** @default `VOXGATE_` + the flag in upper case, dashes as underscores */
  env?: string
  /** `file`: the value names a file whose text (one trailing newline dropped) is the value: for secrets. */
  kind: 'string' | 'int' | 'seconds' | 'switch' | 'list' | 'file'
  /** The config field it sets; `seconds` options set a `…Ms` field. */
  key: keyof ServerConfigInput
  /** The value's name in the help (`URL`, `N`). */
  arg?: string
  help: string
}

export const envName = (o: CliOption): string => o.env ?? `VOXGATE_${o.flag!.toUpperCase().replaceAll('-', '_')}`

/**
 * Flags first, then the environment (`,`-separated lists; switches `1`/`true`/`0`/`false`). Returns the
 * config fields given either way; nothing else is touched, so defaults stay in config.ts.
 */
export function resolveOptions(
  table: readonly CliOption[],
  argv: string[],
  env: NodeJS.ProcessEnv,
  extra: Options = {},
  allowPositionals = false,
) {
  const spec: Options = { ...extra }
  for (const o of table)
    if (o.flag) spec[o.flag] = { type: o.kind === 'switch' ? 'boolean' : 'string', multiple: o.kind === 'list' }
  const { values, positionals } = parse(argv, spec, allowPositionals)
  const config: Record<string, unknown> = {}
  const setBy: Record<string, string> = {}
  for (const o of table) {
    const fromFlag = o.flag === undefined ? undefined : (values as Record<string, unknown>)[o.flag]
    const fromEnv = env[envName(o)]
    const source =
      fromFlag !== undefined ? `--${o.flag}` : fromEnv !== undefined && fromEnv !== '' ? envName(o) : undefined
    if (source === undefined) continue
    // Two rows for one field (a secret from the environment or from a file): one source, not a guess.
    if (setBy[o.key] !== undefined) throw new UsageError(`give ${setBy[o.key]} or ${source}, not both`)
    setBy[o.key] = source
    config[o.key] = convert(o, fromFlag ?? fromEnv, source)
  }
  return {
    config: config as Partial<ServerConfigInput>,
    values: values as Record<string, unknown>,
    positionals,
    help: values.help === true,
  }
}

function convert(o: CliOption, raw: unknown, source: string): unknown {
  if (typeof raw !== 'string') return raw // a flag already parsed as a boolean or a list
  switch (o.kind) {
    case 'string':
      return raw
    case 'int':
      return wholeNumber(raw, source)
    case 'seconds':
      return wholeNumber(raw, source) * 1000
    case 'list':
      return raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    case 'file':
      return readSecretFile(raw, source)
    case 'switch':
      if (/^(1|true)$/i.test(raw)) return true
      if (/^(0|false)$/i.test(raw)) return false
      throw new UsageError(`${source} must be 1, true, 0 or false`)
  }
}

/** A secret's file: its text with one trailing newline dropped (`echo KEY > file` writes one). */
function readSecretFile(file: string, source: string): string {
  try {
    return readFileSync(file, 'utf8').replace(/\r?\n$/, '')
  } catch (err) {
    throw new UsageError(`${source}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`)
  }
}

function wholeNumber(raw: string, source: string): number {
  if (!/^\d+$/.test(raw)) throw new UsageError(`${source} must be a whole number`)
  return Number(raw)
}

const WIDTH = 100
const LEFT = 32

/** The options part of a command's help: each option, what it does, and its environment variable. */
export function optionsHelp(table: readonly CliOption[]): string {
  return table
    .map((o) => {
      const left = o.flag ? `  --${o.flag}${o.arg ? ` ${o.arg}` : ''}` : `  ${envName(o)}`
      return wrap(left.padEnd(LEFT), [...o.help.split(' '), o.flag ? `[env ${envName(o)}]` : '[environment only]'])
    })
    .join('\n')
}

/** Words after the left column, wrapped at WIDTH; a word (the `[env …]` tag is one) never splits. */
function wrap(left: string, words: string[]): string {
  const lines = [left.trimEnd().length < LEFT ? left : `${left}\n${' '.repeat(LEFT)}`]
  for (const word of words) {
    const line = lines[lines.length - 1]!
    const fresh = line.trim() === '' || line.endsWith(' ')
    if (!fresh && line.length + 1 + word.length > WIDTH) lines.push(' '.repeat(LEFT) + word)
    else lines[lines.length - 1] = fresh ? line + word : `${line} ${word}`
  }
  return lines.join('\n')
}
