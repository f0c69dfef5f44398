import { VoxgateError } from '@voxgate/protocol'
import type { RouteAccess } from '../scopes.ts'
import { accessOf, routeKey, type RouteDoc } from './route-doc.ts'

/**
 * The route access table, keyed `METHOD /template` as Fastify registers the route (a WebSocket
 * upgrade looks up its GET route). It is derived from the features' route docs (app/route-table.ts),
 * so the routes the app registers, the OpenAPI document and the decisions are one list.
 */
export type AccessTable = ReadonlyMap<string, RouteAccess>

/** Each route's decision from its doc; a route documented twice is a mistake at start. */
export function accessTable(docs: readonly RouteDoc[]): AccessTable {
  const table = new Map<string, RouteAccess>()
  for (const doc of docs) {
    const key = routeKey(doc)
    if (table.has(key)) throw new Error(`${key} is documented twice.`)
    table.set(key, accessOf(doc))
  }
  return table
}

/** The access decision of a route; HEAD is its GET. A route with no decision fails closed. */
export function routeAccess(table: AccessTable, method: string, template: string): RouteAccess {
  const access = table.get(`${method === 'HEAD' ? 'GET' : method} ${template}`)
  if (access === undefined)
    throw new VoxgateError('internal_error', `route ${method} ${template} has no access decision`)
  return access
}
