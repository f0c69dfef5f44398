import type { FastifyInstance } from 'fastify'
import { VoxgateError } from '@voxgate/protocol'
import type { CoreParts } from '../context.ts'
import type { Guard } from '../http/guard.ts'
import { parseOr400 } from '../http/validate.ts'
import { UsageQuery, usageReport } from '../usage/report.ts'

/** `GET /usage` (API key only): the usage ledger by day, `sub` and key, for the operator. */
export function registerUsageRoutes(app: FastifyInstance, ctx: CoreParts, guard: Guard): void {
  app.get('/usage', { onRequest: guard('api_key') }, async (request) => {
    const query = parseOr400(UsageQuery, request.query ?? {}, 'query')
    try {
      return await usageReport(ctx.store, query, ctx.clock.now())
    } catch (err) {
      if (err instanceof RangeError) throw new VoxgateError('invalid_request', `Invalid query: ${err.message}.`)
      throw err
    }
  })
}
