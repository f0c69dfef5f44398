import { parseArgs, type ParseArgsConfig } from 'node:util'

/** A usage mistake: printed as one line, exit code 2. */
export class UsageError extends Error {}

export type Options = NonNullable<ParseArgsConfig['options']>

export const HELP_OPTION = { help: { type: 'boolean', short: 'h' } } as const satisfies Options

/** What `parse` returns; spelled out because the declaration emit cannot name node:util's inner types. */
type Parsed<O extends Options> = ReturnType<
  typeof parseArgs<{ args: string[]; options: O & typeof HELP_OPTION; strict: true; allowPositionals: boolean }>
>

/** Strict parsing: an unknown flag or a missing value is a UsageError, never ignored. */
export function parse<O extends Options>(argv: string[], options: O, allowPositionals = false): Parsed<O> {
  try {
    return parseArgs({ args: argv, options: { ...options, ...HELP_OPTION }, strict: true, allowPositionals })
  } catch (err) {
    throw new UsageError((err as Error).message.split('\n')[0])
  }
}
