import type { FastifyInstance } from 'fastify'
import type { AuthParts } from '../context.ts'
import { DEFAULT_API_VERSION } from '../http/api-version.ts'
import { json, type RouteDoc } from '../http/route-doc.ts'

export function registerStatusRoutes(app: FastifyInstance, ctx: AuthParts): void {
  app.get('/', async () => ({ ok: true, version: DEFAULT_API_VERSION }))
  // Public keys, so other services can verify voxgate tokens offline.
  app.get('/.well-known/jwks.json', async (_request, reply) => {
    reply.header('cache-control', 'public, max-age=60')
    return ctx.keyRing.jwks()
  })
}

/** These routes as OpenAPI documents them and the access table decides them (http/route-doc.ts). */
export const STATUS_DOCS: readonly RouteDoc[] = [
  {
    method: 'get',
    path: '/',
    summary: 'API status',
    tag: 'status',
    access: 'none',
    ok: json('`{ok, version}`', { ok: { type: 'boolean' }, version: { type: 'string' } }),
    errors: [],
  },
  {
    method: 'get',
    path: '/.well-known/jwks.json',
    summary: 'Public signing keys (Ed25519 JWKs with kid)',
    tag: 'status',
    access: 'none',
    ok: json('A JWK set'),
    errors: [],
  },
]
