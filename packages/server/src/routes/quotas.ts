import type { FastifyInstance } from 'fastify'
import { VoxgateError } from '@voxgate/protocol'
import { requestOrigin } from '../audit/origin.ts'
import type { AccountingParts } from '../context.ts'
import type { Guard } from '../http/guard.ts'
import { parseOr400 } from '../http/validate.ts'
import { QuotaAdmin } from '../quotas/admin.ts'
import { QuotaPut } from '../quotas/schema.ts'

/**
 * `PUT /quotas`, `GET /quotas`, `DELETE /quotas/:id` (API key only): caps per end-user and API key
 * across tokens. A change is enforced on this instance before it is answered, and on the others
 * within 1 s (the Redis notice) or their store poll (without Redis).
 */
export function registerQuotaRoutes(app: FastifyInstance, ctx: AccountingParts, guard: Guard): void {
  const admin = new QuotaAdmin(ctx.store, ctx.clock)
  const opts = { onRequest: guard('api_key') }
  app.put('/quotas', opts, async (request, reply) => {
    const { quota, created } = await admin.put(parseOr400(QuotaPut, request.body), requestOrigin(request))
    await ctx.quotas.changed()
    return reply.code(created ? 201 : 200).send(quota)
  })
  app.get('/quotas', opts, async () => ({ data: await admin.list() }))
  app.get<{ Params: { id: string } }>('/quotas/:id', opts, async (request) => {
    const quota = await admin.get(request.params.id)
    if (!quota) throw new VoxgateError('not_found', 'No quota has this id.')
    return quota
  })
  app.delete<{ Params: { id: string } }>('/quotas/:id', opts, async (request, reply) => {
    if (!(await admin.remove(request.params.id, requestOrigin(request))))
      throw new VoxgateError('not_found', 'No quota has this id.')
    await ctx.quotas.changed()
    return reply.code(204).send()
  })
}
