import type { FastifyInstance } from 'fastify'
import type { AuthParts } from '../context.ts'
import { DEFAULT_API_VERSION } from '../http/api-version.ts'

export function registerStatusRoutes(app: FastifyInstance, ctx: AuthParts): void {
  app.get('/', async () => ({ ok: true, version: DEFAULT_API_VERSION }))
  // Public keys, so other services can verify voxgate tokens offline.
  app.get('/.well-known/jwks.json', async (_request, reply) => {
    reply.header('cache-control', 'public, max-age=60')
    return ctx.keyRing.jwks()
  })
}
