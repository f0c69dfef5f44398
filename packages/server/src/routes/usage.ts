import type { FastifyInstance } from 'fastify'
import { VoxgateError } from '@voxgate/protocol'
import type { CoreParts } from '../context.ts'
import type { Guard } from '../http/guard.ts'
import { parseOr400 } from '../http/validate.ts'
import { UsageQuery, usageReport } from '../usage/report.ts'
import { json, type RouteDoc } from '../http/route-doc.ts'

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

/** These routes as OpenAPI documents them and the access table decides them (http/route-doc.ts). */
export const USAGE_DOCS: readonly RouteDoc[] = [
  {
    method: 'get',
    path: '/usage',
    summary: 'Usage by day, sub and API key, from the ledger',
    tag: 'operators',
    access: 'api_key',
    scope: 'read',
    query: UsageQuery,
    ok: json('`{from, to, group_by, data: [rows], totals}`'),
    errors: ['invalid_request'],
  },
]
