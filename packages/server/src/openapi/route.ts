import type { FastifyInstance } from 'fastify'
import type { CoreParts } from '../context.ts'
import { buildOpenApiDocument } from './document.ts'
import { SERVER_VERSION } from '../version.ts'
import { json, type RouteDoc } from '../http/route-doc.ts'

/**
 * `GET /openapi.json`: the API's OpenAPI 3.1 document, built once on first request from `docs`, the
 * route docs of the features the app registered (app/route-table.ts). No credential.
 */
export function registerOpenApiRoute(app: FastifyInstance, ctx: CoreParts, docs: () => readonly RouteDoc[]): void {
  let document: string | undefined
  app.get('/openapi.json', async (_request, reply) => {
    document ??= JSON.stringify(
      buildOpenApiDocument({ version: SERVER_VERSION, tokenCookieName: ctx.config.tokenCookieName, routes: docs() }),
    )
    return reply.type('application/json').header('cache-control', 'public, max-age=300').send(document)
  })
}

/** These routes as OpenAPI documents them and the access table decides them (http/route-doc.ts). */
export const OPENAPI_DOCS: readonly RouteDoc[] = [
  {
    method: 'get',
    path: '/openapi.json',
    summary: 'This document',
    tag: 'status',
    access: 'none',
    ok: json('OpenAPI 3.1'),
    errors: [],
  },
]
