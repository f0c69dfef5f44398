import type { z } from 'zod'
import { VoxgateError } from '@voxgate/protocol'

/**
 * Parses untrusted input against a schema, or throws a 400 naming the first bad field. zod's
 * messages describe types, never the values, so nothing the caller sent is echoed back.
 */
export function parseOr400<S extends z.ZodType>(schema: S, input: unknown, what = 'request body'): z.output<S> {
  const result = schema.safeParse(input)
  if (result.success) return result.data
  const issue = result.error.issues[0]
  const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : ''
  throw new VoxgateError('invalid_request', `Invalid ${what}: ${where}${issue?.message ?? 'invalid'}`)
}
