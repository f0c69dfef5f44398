import type { FastifyInstance } from 'fastify'
import { VoxgateError } from '@voxgate/protocol'
import { requestOrigin } from '../audit/origin.ts'
import { createKey } from '../keys/create-key.ts'
import { revokeKey } from '../keys/revoke.ts'
import { isoOrNull } from '../clock.ts'
import type { ServerContext } from '../context.ts'
import type { Guard } from '../http/guard.ts'
import { parseOr400 } from '../http/validate.ts'
import { rotateKey } from '../keys/rotate.ts'
import { ApiKeyCreate, ApiKeyListQuery, ApiKeyPatch, ApiKeyRotate } from '../keys/schema.ts'
import { auditDraft } from '../store/audit-types.ts'
import type { ApiKeyRecord, KeyChangeResult } from '../store/types.ts'
import { json, type RouteDoc } from '../http/route-doc.ts'

/**
 * A key as the API shows it: never its secret or digest. `rotating_until`: while a rotation's grace
 * runs (at `nowMs`), when the replaced secret stops working; else null.
 */
export const keyView = (k: ApiKeyRecord, nowMs: number) => ({
  id: k.id,
  name: k.name,
  scopes: k.scopes,
  policy: k.policy,
  prefix: k.prefix,
  created_at: isoOrNull(k.createdAt),
  expires_at: isoOrNull(k.expiresAt),
  last_used_at: isoOrNull(k.lastUsedAt),
  revoked_at: isoOrNull(k.revokedAt),
  rotating_until: k.rotatingUntil !== null && k.rotatingUntil > nowMs ? isoOrNull(k.rotatingUntil) : null,
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
 * The API key admin API (issue 22 item 2): create, change, list, rotate, revoke; each change with its
 * audit row and its webhook event, written in the same transaction. Scopes come from the route
 * docs below (API_KEY_DOCS); tokens never reach these routes. The secret appears in the creation answer only.
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
      events: ctx.outbox,
      origin: requestOrigin(request),
    })
    return reply.code(201).send(created)
  })
  app.get('/api-keys', opts, async (request) => {
    const { status } = parseOr400(ApiKeyListQuery, request.query ?? {}, 'query')
    const keys = (await ctx.store.listApiKeys()).filter(
      (k) => status === 'all' || (status === 'revoked') === (k.revokedAt !== null),
    )
    const now = ctx.clock.now()
    return { data: keys.map((k) => keyView(k, now)) }
  })
  app.get<{ Params: { id: string } }>('/api-keys/:id', opts, async (request) => {
    const key = await ctx.store.getApiKey(request.params.id)
    if (!key) throw notFound()
    return keyView(key, ctx.clock.now())
  })
  app.patch<{ Params: { id: string } }>('/api-keys/:id', opts, async (request) => {
    const body = parseOr400(ApiKeyPatch, request.body ?? {})
    const now = ctx.clock.now()
    const expiresAt = typeof body.expires_at === 'string' ? futureMs(body.expires_at, now) : body.expires_at
    const id = request.params.id
    // The row says what was asked to change (the fields sent), never a secret.
    const audit = auditDraft(requestOrigin(request), {
      at: now,
      action: 'api_key.updated',
      target: { type: 'api_key', id },
      details: {
        ...(body.name !== undefined && { name: body.name }),
        ...(body.scopes !== undefined && { scopes: body.scopes }),
        ...(expiresAt !== undefined && { expires_at: isoOrNull(expiresAt) }),
      },
    })
    expect(await ctx.store.updateApiKey(id, { name: body.name, scopes: body.scopes, expiresAt }, { audit }))
    return keyView((await ctx.store.getApiKey(id))!, now)
  })
  app.post<{ Params: { id: string } }>('/api-keys/:id/rotate', opts, async (request) => {
    const body = parseOr400(ApiKeyRotate, request.body ?? {})
    const now = ctx.clock.now()
    const id = request.params.id
    const rotated = await rotateKey(ctx.store, {
      id,
      graceSeconds: body.grace_seconds,
      nowMs: now,
      origin: requestOrigin(request),
      events: ctx.outbox,
    })
    if (!rotated) throw notFound()
    ctx.authenticator.forgetKey(id)
    return { ...keyView((await ctx.store.getApiKey(id))!, now), key: rotated.key }
  })
  app.delete<{ Params: { id: string } }>('/api-keys/:id', opts, async (request, reply) => {
    const id = request.params.id
    const now = ctx.clock.now()
    expect(await revokeKey(ctx.store, { id, nowMs: now, origin: requestOrigin(request), events: ctx.outbox }))
    // As `voxgate keys revoke`: this instance refuses the key and its tokens at once, and ends their
    // streams; the others do so at their next store poll (--store-poll-ms, 1 s by default).
    ctx.revocations.revokeKey(id)
    ctx.streams.sweep()
    return reply.code(204).send()
  })
}

/** These routes as OpenAPI documents them and the access table decides them (http/route-doc.ts). */
export const API_KEY_DOCS: readonly RouteDoc[] = [
  {
    method: 'post',
    path: '/api-keys',
    summary: 'Create an API key (scopes default to mint and speech); its secret is in this answer only',
    tag: 'operators',
    access: 'api_key',
    scope: 'admin',
    body: { schema: ApiKeyCreate, name: 'ApiKeyCreate' },
    ok: { ...json('`{id, key, name, scopes, created_at, expires_at}`'), status: 201 },
    errors: ['invalid_request'],
  },
  {
    method: 'get',
    path: '/api-keys',
    summary: 'API keys (never a secret), by status: active (default, expired included), revoked or all',
    tag: 'operators',
    access: 'api_key',
    scope: 'read',
    query: ApiKeyListQuery,
    ok: json('`{data: [keys]}`'),
    errors: ['invalid_request'],
  },
  {
    method: 'get',
    path: '/api-keys/{id}',
    summary: 'One API key (never its secret)',
    tag: 'operators',
    access: 'api_key',
    scope: 'read',
    ok: json('The key'),
    errors: ['not_found'],
  },
  {
    method: 'patch',
    path: '/api-keys/{id}',
    summary: "Change a key's name, scopes or expiry",
    tag: 'operators',
    access: 'api_key',
    scope: 'admin',
    body: { schema: ApiKeyPatch, name: 'ApiKeyPatch' },
    ok: json('The key'),
    errors: ['invalid_request', 'not_found', 'last_admin_key'],
  },
  {
    method: 'delete',
    path: '/api-keys/{id}',
    summary: 'Revoke a key and every token it minted, on every instance',
    tag: 'operators',
    access: 'api_key',
    scope: 'admin',
    ok: { status: 204, type: '', description: 'Revoked' },
    errors: ['not_found', 'last_admin_key'],
  },
  {
    method: 'post',
    path: '/api-keys/{id}/rotate',
    summary:
      'Give a key a new secret (in this answer only); the old one works for grace_seconds more (default 86400), then 401 api_key_expired',
    tag: 'operators',
    access: 'api_key',
    scope: 'admin',
    body: { schema: ApiKeyRotate, name: 'ApiKeyRotate' },
    ok: json('The key, with `key` (the new secret) and `rotating_until`'),
    errors: ['invalid_request', 'not_found'],
  },
]
