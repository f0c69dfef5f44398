import { parseArgs, type ParseArgsConfig } from 'node:util'

/** A usage mistake: printed as one line, exit code 2. */
export class UsageError extends Error {}

type Options = NonNullable<ParseArgsConfig['options']>

export const DATA_OPTION = { data: { type: 'string' } } as const satisfies Options
export const HELP_OPTION = { help: { type: 'boolean', short: 'h' } } as const satisfies Options

/** What `parse` returns; spelled out because the declaration emit cannot name node:util's inner types. */
type Parsed<O extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: O & typeof HELP_OPTION; strict: true; allowPositionals: boolean }>>

/** Strict parsing: an unknown flag or a missing value is a UsageError, never ignored. */
export function parse<O extends Options>(argv: string[], options: O, allowPositionals = false): Parsed<O> {
  try {
    return parseArgs({ args: argv, options: { ...options, ...HELP_OPTION }, strict: true, allowPositionals })
  } catch (err) {
    throw new UsageError((err as Error).message.split('\n')[0])
  }
}

/** `--data`, else `VOXGATE_DATA_DIR`, else `./.voxgate`. */
export function dataDir(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  return flag ?? env.VOXGATE_DATA_DIR ?? '.voxgate'
}

export function intOption(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined
  if (!/^\d+$/.test(value)) throw new UsageError(`--${name} must be a whole number`)
  return Number(value)
}
