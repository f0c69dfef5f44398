import type { FastifyInstance } from 'fastify'
import { requestOrigin } from '../audit/origin.ts'
import { hasScope } from '../scopes.ts'
import type { OperationsParts } from '../context.ts'
import { principalOf, type Guard } from '../http/guard.ts'
import { parseOr400 } from '../http/validate.ts'
import { WebhookCreate } from '../webhooks/schema.ts'

/**
 * Webhooks (issue 22 item 4): add (the secret is in that answer only), list, remove, their latest
 * deliveries, a test event, a new secret. Scopes come from the route table (http/scopes.ts): a
 * `read` key lists webhooks with their URLs' path and query masked.
 */
export function registerWebhookRoutes(app: FastifyInstance, ctx: OperationsParts, guard: Guard): void {
  const opts = { onRequest: guard('api_key') }
  const admin = ctx.webhooks
  app.post('/webhooks', opts, async (request, reply) =>
    reply.code(201).send(await admin.add(parseOr400(WebhookCreate, request.body ?? {}), requestOrigin(request))),
  )
  app.get('/webhooks', opts, async (request) => {
    const p = principalOf(request)
    return { data: await admin.list({ masked: !(p.kind === 'api_key' && hasScope(p.scopes, 'admin')) }) }
  })
  app.delete<{ Params: { id: string } }>('/webhooks/:id', opts, async (request, reply) => {
    await admin.remove(request.params.id, requestOrigin(request))
    return reply.code(204).send()
  })
  app.get<{ Params: { id: string } }>('/webhooks/:id/deliveries', opts, async (request) => ({
    data: await admin.deliveries(request.params.id),
  }))
  app.post<{ Params: { id: string } }>('/webhooks/:id/test', opts, async (request, reply) =>
    reply.code(202).send(await admin.test(request.params.id)),
  )
  app.post<{ Params: { id: string } }>('/webhooks/:id/rotate-secret', opts, async (request) =>
    admin.rotateSecret(request.params.id),
  )
}
