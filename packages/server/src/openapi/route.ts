import type { FastifyInstance } from 'fastify'
import type { CoreParts } from '../context.ts'
import { buildOpenApiDocument } from './document.ts'
import { SERVER_VERSION } from '../version.ts'

/** `GET /openapi.json`: the API's OpenAPI 3.1 document, built once on first request. No credential. */
export function registerOpenApiRoute(app: FastifyInstance, ctx: CoreParts): void {
  let document: string | undefined
  app.get('/openapi.json', async (_request, reply) => {
    document ??= JSON.stringify(
      buildOpenApiDocument({
        version: SERVER_VERSION,
        tokenCookieName: ctx.config.tokenCookieName,
        console: ctx.config.console,
      }),
    )
    return reply.type('application/json').header('cache-control', 'public, max-age=300').send(document)
  })
}
