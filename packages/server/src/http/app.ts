import Fastify, { LogController, type FastifyInstance, type FastifyRequest, type onRequestHookHandler } from 'fastify'
import type { Requirement } from '../auth/authorize.ts'
import type { Principal } from '../auth/principal.ts'
import type { ServerContext } from '../context.ts'
import { requestId } from '../ids.ts'
import { registerAccessTokenRoutes } from '../routes/access-token.ts'
import { registerStatusRoutes } from '../routes/status.ts'
import { registerTtsRoutes } from '../routes/tts.ts'
import { registerVoiceRoutes } from '../routes/voices.ts'
import { apiVersion } from './api-version.ts'
import { TLS_POLICY } from '../tls/policy.ts'
import { authenticateRequest, queryOf, viaTrustedHttpsProxy } from './authenticate.ts'
import { registerCors } from './cors.ts'
import { errorHandler, sendError } from './errors.ts'
import { VoxgateError } from '@voxgate/protocol'

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | undefined
    apiVersion: string
  }
}

export interface HttpsOptions {
  key: string | Buffer
  cert: string | Buffer
}

/** The authenticated principal of a guarded route (the guard ran, so it is set). */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new VoxgateError('internal_error', 'route is missing its auth guard')
  return request.principal
}

export type Guard = (requirement: Requirement) => onRequestHookHandler

/**
 * Builds the HTTP API. Authentication is an `onRequest` hook, so it runs before the body is even
 * read: a bad credential is a 401 whatever the body, and a good one with a bad body is a 400.
 */
export function buildApp(ctx: ServerContext, https: HttpsOptions | undefined): FastifyInstance {
  const app = Fastify({
    ...(https ? { https: { ...https, ...TLS_POLICY } } : {}),
    loggerInstance: ctx.logger,
    genReqId: () => requestId(),
    bodyLimit: ctx.config.bodyLimitBytes,
    // Our own onResponse hook logs ids only; Fastify's request log would record URLs with queries.
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    // On close, idle keep-alive connections go at once; streams end with their terminal event first.
    forceCloseConnections: 'idle',
    routerOptions: { ignoreTrailingSlash: false, maxParamLength: 200 },
  }) as unknown as FastifyInstance
  // Behind a proxy, only a response the browser receives over HTTPS may pin HTTPS (RFC 6797 §7.2).
  const hsts = ctx.config.hstsMaxAgeSeconds > 0 ? `max-age=${ctx.config.hstsMaxAgeSeconds}` : undefined
  // JSON only: Fastify's default text/plain parser would let a non-JSON body reach validation.
  app.removeContentTypeParser('text/plain')
  app.decorateRequest('principal', undefined)
  app.decorateRequest('apiVersion', '')
  app.setErrorHandler(errorHandler)
  app.setNotFoundHandler((request, reply) => sendError(reply, new VoxgateError('not_found', `No route ${request.method} ${request.url.split('?')[0]}.`)))
  app.addHook('onRequest', async (request, reply) => {
    request.apiVersion = apiVersion(request.headers['cartesia-version'], queryOf(request.url))
    reply.header('x-request-id', request.id)
    if (hsts && (https || viaTrustedHttpsProxy(request.raw, ctx.config.trustedProxies))) reply.header('strict-transport-security', hsts)
  })
  app.addHook('onResponse', async (request, reply) => {
    const p = request.principal
    request.log.info({
      method: request.method, path: request.url.split('?')[0], status: reply.statusCode,
      key_id: p?.keyId, sub: p?.kind === 'token' ? p.sub : undefined, ms: Math.round(reply.elapsedTime),
    }, 'request')
  })
  registerCors(app, ctx.config.allowedOrigins)
  const guard: Guard = (requirement) => async (request) => {
    request.principal = await authenticateRequest(ctx, request.raw, queryOf(request.url), requirement, false)
  }
  registerStatusRoutes(app, ctx)
  registerAccessTokenRoutes(app, ctx, guard)
  registerVoiceRoutes(app, ctx, guard)
  registerTtsRoutes(app, ctx, guard)
  return app
}
