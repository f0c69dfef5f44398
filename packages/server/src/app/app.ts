import Fastify, { LogController, type FastifyInstance, type RouteOptions } from 'fastify'
import type { AppContext } from './app-context.ts'
import type { Feature } from './feature.ts'
import { appFeatures } from './route-table.ts'
import { requestId } from '../ids.ts'
import { apiVersion } from '../http/api-version.ts'
import { TLS_POLICY } from '../tls/policy.ts'
import { queryOf, viaTrustedHttpsProxy } from '../http/authenticate.ts'
import { createGuard } from '../http/guard.ts'
import { accessTable, routeAccess } from '../http/scopes.ts'
import { registerCors } from '../http/cors.ts'
import { errorHandler, sendError } from './errors.ts'
import { registerBodyRate } from '../http/slow-body.ts'
import { jsonBodyReader } from '../http/json-body.ts'
import { clientErrorHandler } from '../http/client-error.ts'
import { VoxgateError } from '@voxgate/protocol'

export interface BuildOptions {
  /** Told of every route as it is registered (the OpenAPI test lists them so). */
  onRoute?: (route: RouteOptions) => void
  /** The route table (route-table.ts `appFeatures`), which the WebSocket router is handed too. */
  features?: readonly Feature[]
}

export interface HttpsOptions {
  key: string | Buffer
  cert: string | Buffer
}

/**
 * Builds the HTTP API. Authentication is an `onRequest` hook, so it runs before the body is even
 * read: a bad credential is a 401 whatever the body, and a good one with a bad body is a 400.
 */
export function buildApp(
  ctx: AppContext,
  https: HttpsOptions | undefined,
  options: BuildOptions = {},
): FastifyInstance {
  const timeouts = serverTimeouts(ctx.config)
  const app = Fastify({
    // A connection that never completes its TLS handshake gets no longer than one that never sends headers.
    ...(https
      ? { https: { ...https, ...TLS_POLICY, ...timeouts, handshakeTimeout: timeouts.headersTimeout } }
      : { http: timeouts }),
    // Fastify sets this on the server itself (its default, 0, would let a request take for ever).
    requestTimeout: timeouts.requestTimeout,
    loggerInstance: ctx.logger,
    genReqId: requestId,
    bodyLimit: ctx.config.bodyLimitBytes,
    // Our own onResponse hook logs ids only; Fastify's request log would record URLs with queries.
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    clientErrorHandler,
    // On close, idle keep-alive connections go at once; streams end with their terminal event first.
    forceCloseConnections: 'idle',
    routerOptions: { ignoreTrailingSlash: false, maxParamLength: 200 },
  }) as unknown as FastifyInstance
  if (options.onRoute) app.addHook('onRoute', options.onRoute)
  // Behind a proxy, only a response the browser receives over HTTPS may pin HTTPS (RFC 6797 §7.2).
  const hsts = ctx.config.hstsMaxAgeSeconds > 0 ? `max-age=${ctx.config.hstsMaxAgeSeconds}` : undefined
  // JSON only: Fastify's default text/plain parser would let a non-JSON body reach validation.
  app.removeContentTypeParser('text/plain')
  // A body with no Content-Type at all is read as JSON (LiveKit's Cartesia plugin posts JSON so);
  // any explicit type but JSON (and multipart where a route takes it) stays 415.
  const json = app.getDefaultJsonParser('error', 'error')
  app.addContentTypeParser('*', { parseAs: 'string' }, (request, body, done) => {
    if (request.headers['content-type'] !== undefined)
      return done(new VoxgateError('unsupported_media_type', 'Send the request body as application/json.'), undefined)
    json(request, body as string, done)
  })
  // Fastify's JSON parser and rules, with a shortcut for a body that came whole with its headers (json-body.ts).
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', jsonBodyReader(json))
  registerBodyRate(app, { minBytesPerSecond: ctx.config.bodyMinBytesPerSecond, graceMs: ctx.config.bodyGraceMs })
  app.decorateRequest('principal', undefined)
  app.decorateRequest('apiVersion', '')
  app.setErrorHandler(errorHandler)
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, new VoxgateError('not_found', `No route ${request.method} ${request.url.split('?')[0]}.`)),
  )
  // Callback-style hooks where nothing is awaited: an async hook costs a promise and a microtask hop per request.
  app.addHook('onRequest', (request, reply, done) => {
    request.apiVersion = apiVersion(request.headers['cartesia-version'], queryOf(request.url))
    reply.header('x-request-id', request.id)
    if (hsts && (https || viaTrustedHttpsProxy(request.raw, ctx.config.trustedProxies)))
      reply.header('strict-transport-security', hsts)
    done()
  })
  app.addHook('onResponse', (request, reply, done) => {
    const p = request.principal
    request.log.info(
      {
        method: request.method,
        path: pathOf(request.url),
        status: reply.statusCode,
        key_id: p?.keyId,
        sub: p?.kind === 'token' ? p.sub : undefined,
        ms: Math.round(reply.elapsedTime),
      },
      'request',
    )
    // The route template (`/voices/:id`), never the URL: bounded label values, no ids or queries.
    ctx.metrics.request(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode)
    done()
  })
  registerCors(app, ctx.config.allowedOrigins)
  // Every route is a feature's, and each route's access decision is its doc's (route-table.ts).
  const features = options.features ?? appFeatures(ctx)
  const table = accessTable(features.flatMap((f) => f.docs))
  // A route with no doc would be undocumented and refused at every request: it stops the start instead.
  app.addHook('onRoute', ({ method, url }) => {
    for (const m of [method].flat()) if (m !== 'HEAD') routeAccess(table, m, url)
  })
  const guard = createGuard(ctx, table)
  for (const feature of features) feature.routes(app, guard)
  return app
}

/** The URL without its query (which may carry a credential: never logged). */
function pathOf(url: string): string {
  const q = url.indexOf('?')
  return q < 0 ? url : url.slice(0, q)
}

/**
 * Node's own clocks on a request being received (not on the response): headers, then the whole
 * request. It checks them on an interval, so the interval is a fraction of the headers timeout.
 */
function serverTimeouts(config: AppContext['config']) {
  return {
    headersTimeout: config.headersTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    connectionsCheckingInterval: Math.min(1000, Math.max(25, Math.floor(config.headersTimeoutMs / 4))),
  }
}
