import type { FastifyInstance } from 'fastify'
import { requestOrigin } from '../audit/origin.ts'
import { hasScope } from '../scopes.ts'
import type { OperationsParts } from '../context.ts'
import { principalOf, type Guard } from '../http/guard.ts'
import { parseOr400 } from '../http/validate.ts'
import { WebhookCreate } from '../webhooks/schema.ts'
import { json, type RouteDoc } from '../http/route-doc.ts'

/**
 * Webhooks (issue 22 item 4): add (the secret is in that answer only), list, remove, their latest
 * deliveries, a test event, a new secret. Scopes come from the route docs below (WEBHOOK_DOCS): a
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

/** These routes as OpenAPI documents them and the access table decides them (http/route-doc.ts). */
export const WEBHOOK_DOCS: readonly RouteDoc[] = [
  {
    method: 'post',
    path: '/webhooks',
    summary:
      'Add a webhook (https:// only; a private or loopback address is refused); its secret is in this answer only',
    tag: 'operators',
    access: 'api_key',
    scope: 'admin',
    body: { schema: WebhookCreate, name: 'WebhookCreate' },
    ok: { ...json('`{id, url, events, created_at, secret}`'), status: 201 },
    errors: ['invalid_request', 'webhook_url_not_allowed'],
  },
  {
    method: 'get',
    path: '/webhooks',
    summary: 'Every webhook (never a secret); a read key sees URLs with path and query masked',
    tag: 'operators',
    access: 'api_key',
    // A `read` key sees the URLs with their path and query masked (the route checks).
    scope: 'read',
    ok: json('`{data: [{id, url, events, created_at}]}`'),
    errors: [],
  },
  {
    method: 'delete',
    path: '/webhooks/{id}',
    summary: 'Remove a webhook and its pending deliveries',
    tag: 'operators',
    access: 'api_key',
    scope: 'admin',
    ok: { status: 204, type: '', description: 'Removed' },
    errors: ['not_found'],
  },
  {
    method: 'get',
    path: '/webhooks/{id}/deliveries',
    summary: "A webhook's latest 100 deliveries, newest first",
    tag: 'operators',
    access: 'api_key',
    scope: 'read',
    ok: json('`{data: [{event_id, type, attempt, status_code, error, next_attempt_at, delivered_at}]}`'),
    errors: ['not_found'],
  },
  {
    method: 'post',
    path: '/webhooks/{id}/test',
    summary: 'Send a webhook.test event to this webhook, delivered and retried like any other',
    tag: 'operators',
    access: 'api_key',
    scope: 'admin',
    ok: { ...json('`{event_id}`'), status: 202 },
    errors: ['not_found'],
  },
  {
    method: 'post',
    path: '/webhooks/{id}/rotate-secret',
    summary: 'A new signing secret, at once (pending retries are signed with it); shown in this answer only',
    tag: 'operators',
    access: 'api_key',
    scope: 'admin',
    ok: json('`{id, secret}`'),
    errors: ['not_found'],
  },
]
