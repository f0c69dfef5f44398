import type { FastifyRequest, onRequestHookHandler } from 'fastify'
import { VoxgateError } from '@voxgate/protocol'
import type { Requirement } from '../auth/authorize.ts'
import type { Principal } from '../auth/principal.ts'
import type { ServerContext } from '../context.ts'
import { authenticateRequest, queryOf } from './authenticate.ts'
import { routeAccess, type AccessTable } from './scopes.ts'

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | undefined
    apiVersion: string
  }
}

/** A route's credential check: runs as its `onRequest` hook, before the body is read. */
export type Guard = (requirement: Requirement) => onRequestHookHandler

/**
 * The request guard: authenticates the caller and checks the route's requirement and its access
 * decision in `table` (the features' route docs), then records the principal on the request. Routes
 * take it as an argument; nothing imports the app module for it.
 */
export function createGuard(ctx: ServerContext, table: AccessTable): Guard {
  return (requirement) => async (request) => {
    const route = request.routeOptions.url ?? ''
    const access = routeAccess(table, request.method, route)
    request.principal = await authenticateRequest(ctx, request.raw, queryOf(request.url), requirement, false, {
      route,
      id: request.id,
      access,
    })
  }
}

/** The authenticated principal of a guarded route (the guard ran, so it is set). */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new VoxgateError('internal_error', 'route is missing its auth guard')
  return request.principal
}
