import type { FastifyInstance } from 'fastify'
import { VoxgateError } from '@voxgate/protocol'
import { createKey } from '../auth/create-key.ts'
import type { ServerContext } from '../context.ts'
import type { Guard } from '../http/guard.ts'
import { parseOr400 } from '../http/validate.ts'
import { ApiKeyCreate, ApiKeyListQuery, ApiKeyPatch } from '../keys/schema.ts'
import type { ApiKeyRecord, KeyChangeResult } from '../store/types.ts'

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString())

/** A key as the API shows it: never its secret or digest. */
export const keyView = (k: ApiKeyRecord) => ({
  id: k.id,
  name: k.name,
  scopes: k.scopes,
  policy: k.policy,
  prefix: k.prefix,
  created_at: iso(k.createdAt),
  expires_at: iso(k.expiresAt),
  last_used_at: iso(k.lastUsedAt),
  revoked_at: iso(k.revokedAt),
})

const notFound = () => new VoxgateError('not_found', 'No live API key has this id.')

function expect(result: KeyChangeResult): void {
  if (result === 'not_found') throw notFound()
  if (result === 'last_admin_key')
    throw new VoxgateError('last_admin_key', 'At least one admin key must remain; create another admin key first.')
}

/** A future instant from RFC 3339, or 400 naming the field. */
function futureMs(value: string, nowMs: number): number {
  const ms = Date.parse(value)
  if (ms <= nowMs) throw new VoxgateError('invalid_request', 'Invalid request body: expires_at: must be in the future')
  return ms
}

/**
 * The API key admin API (issue 22 item 2): create, change, list, revoke. Scopes come from the route
 * table (http/scopes.ts); tokens never reach these routes. The secret appears in the creation answer only.
 */
export function registerApiKeyRoutes(app: FastifyInstance, ctx: ServerContext, guard: Guard): void {
  const opts = { onRequest: guard('api_key') }
  app.post('/api-keys', opts, async (request, reply) => {
    const body = parseOr400(ApiKeyCreate, request.body ?? {})
    const now = ctx.clock.now()
    const expiresAt = body.expires_at === undefined ? null : futureMs(body.expires_at, now)
    const created = await createKey(ctx.store, body.name, now, {
      scopes: body.scopes,
      policy: (body.policy as ApiKeyRecord['policy']) ?? null,
      expiresAt,
    })
    return reply.code(201).send(created)
  })
  app.get('/api-keys', opts, async (request) => {
    const { status } = parseOr400(ApiKeyListQuery, request.query ?? {}, 'query')
    const keys = (await ctx.store.listApiKeys()).filter(
      (k) => status === 'all' || (status === 'revoked') === (k.revokedAt !== null),
    )
    return { data: keys.map(keyView) }
  })
  app.get<{ Params: { id: string } }>('/api-keys/:id', opts, async (request) => {
    const key = await ctx.store.getApiKey(request.params.id)
    if (!key) throw notFound()
    return keyView(key)
  })
  app.patch<{ Params: { id: string } }>('/api-keys/:id', opts, async (request) => {
    const body = parseOr400(ApiKeyPatch, request.body ?? {})
    const expiresAt = typeof body.expires_at === 'string' ? futureMs(body.expires_at, ctx.clock.now()) : body.expires_at
    expect(await ctx.store.updateApiKey(request.params.id, { name: body.name, scopes: body.scopes, expiresAt }))
    return keyView((await ctx.store.getApiKey(request.params.id))!)
  })
  app.delete<{ Params: { id: string } }>('/api-keys/:id', opts, async (request, reply) => {
    const id = request.params.id
    expect(await ctx.store.removeApiKey(id, ctx.clock.now()))
    // As `voxgate keys revoke`: this instance refuses the key and its tokens at once, and ends their
    // streams; the others do so at their next store poll (--store-poll-ms, 1 s by default).
    ctx.revocations.revokeKey(id)
    ctx.streams.sweep()
    return reply.code(204).send()
  })
}
