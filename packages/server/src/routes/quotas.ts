import type { FastifyInstance } from 'fastify'
import { VoxgateError } from '@voxgate/protocol'
import { requestOrigin } from '../audit/origin.ts'
import type { AccountingParts } from '../context.ts'
import type { Guard } from '../http/guard.ts'
import { parseOr400 } from '../http/validate.ts'
import { QuotaAdmin } from '../quotas/admin.ts'
import { QuotaPut } from '../quotas/schema.ts'
import { json, type RouteDoc } from '../http/route-doc.ts'

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

/** These routes as OpenAPI documents them and the access table decides them (http/route-doc.ts). */
export const QUOTA_DOCS: readonly RouteDoc[] = [
  {
    method: 'put',
    path: '/quotas',
    summary: 'Set a quota per end-user (sub) and/or API key, per UTC day or month (201 created, 200 changed)',
    tag: 'operators',
    access: 'api_key',
    scope: 'admin',
    body: { schema: QuotaPut, name: 'QuotaPut' },
    ok: json('The quota, with `period_ends` and `used` in the current period'),
    errors: ['invalid_request'],
  },
  {
    method: 'get',
    path: '/quotas',
    summary: 'Every quota, with its use in the current period',
    tag: 'operators',
    access: 'api_key',
    scope: 'read',
    ok: json('`{data: [quotas]}`'),
    errors: [],
  },
  {
    method: 'get',
    path: '/quotas/{id}',
    summary: 'One quota',
    tag: 'operators',
    access: 'api_key',
    scope: 'read',
    ok: json('The quota'),
    errors: ['not_found'],
  },
  {
    method: 'delete',
    path: '/quotas/{id}',
    summary: 'Remove a quota',
    tag: 'operators',
    access: 'api_key',
    scope: 'admin',
    ok: { status: 204, type: '', description: 'Removed' },
    errors: ['not_found'],
  },
]
