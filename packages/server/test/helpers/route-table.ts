import type { RouteOptions } from 'fastify'
import { buildApp } from '../../src/app/app.ts'
import type { Feature } from '../../src/app/feature.ts'
import { appFeatures } from '../../src/app/route-table.ts'
import type { RouteDoc } from '../../src/http/route-doc.ts'
import { accessTable, type AccessTable } from '../../src/http/scopes.ts'
import type { TestServer } from './server.ts'

export interface RegisteredRoute {
  method: string
  /** Fastify's template: `/voices/:id`. */
  url: string
}

/** A server's route table (app/route-table.ts) and what the app registers from it. */
export interface RouteTable {
  features: readonly Feature[]
  /** Every feature's docs, in the table's order. */
  docs: readonly RouteDoc[]
  /** The access decisions derived from the docs, as the guard reads them. */
  access: AccessTable
  /** Every route Fastify registered from the features (HEAD routes stand with their GET). */
  routes: RegisteredRoute[]
}

/**
 * The route table of a running test server, built as the server builds it, and the routes an app
 * registers from that very list (Fastify's onRoute hook reports them).
 */
export async function routeTableOf(server: TestServer): Promise<RouteTable> {
  const features = appFeatures(server.server.ctx)
  const routes: RegisteredRoute[] = []
  const onRoute = (r: RouteOptions) => {
    for (const method of [r.method].flat()) if (method !== 'HEAD') routes.push({ method, url: r.url })
  }
  const app = buildApp(server.server.ctx, undefined, { features, onRoute })
  await app.ready()
  await app.close()
  const docs = features.flatMap((f) => f.docs)
  return { features, docs, access: accessTable(docs), routes }
}

/** `METHOD /template`, as Fastify registers a route and the access table keys it. */
export const routeKeyOf = (r: RegisteredRoute): string => `${r.method} ${r.url}`
