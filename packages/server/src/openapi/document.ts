import { ERROR_CATALOGUE, type ErrorCode } from '@voxgate/protocol'
import { accessOf, type Access, type RouteDoc, type WebSocketDoc } from '../http/route-doc.ts'
import { byStatus, routeErrors } from './errors.ts'
import { queryParameters, requestSchema, type JsonSchema } from './json-schema.ts'

export interface OpenApiOptions {
  version: string
  /** The cookie mode's cookie name, when the server has one. */
  tokenCookieName: string | undefined
  /**
   * The routes, in the order the document lists them: the docs of the features the app registered
   * (app/route-table.ts), so the console's routes are in it exactly when the server serves them.
   */
  routes: readonly RouteDoc[]
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` })

/**
 * voxgate's OpenAPI 3.1 document: the features' route docs with every schema converted from the zod
 * schemas the server validates with, and every error from the catalogue.
 */
export function buildOpenApiDocument(options: OpenApiOptions): Record<string, unknown> {
  const schemas: Record<string, JsonSchema> = { Error: errorSchema(), ErrorEvent: errorEventSchema() }
  const paths: Record<string, Record<string, unknown>> = {}
  const { routes } = options
  for (const route of routes) {
    if (route.body) schemas[route.body.name] ??= requestSchema(route.body.schema)
    for (const [name, schema] of Object.entries(route.websocket?.client ?? {})) schemas[name] ??= requestSchema(schema)
    paths[route.path] = { ...paths[route.path], [route.method]: operation(route) }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'voxgate',
      version: options.version,
      description:
        'A Cartesia-compatible voice API. Every error has the shape `{error_code, title, message, request_id}`; `error_code` is one of `x-error-catalogue`.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    tags: [...new Set(routes.map((r) => r.tag))].map((name) => ({ name })),
    paths,
    components: {
      schemas,
      securitySchemes: securitySchemes(options.tokenCookieName),
      parameters: {
        CartesiaVersion: {
          name: 'Cartesia-Version',
          in: 'header',
          required: false,
          schema: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' },
          description: 'API version (YYYY-MM-DD); the query wins',
        },
        CartesiaVersionQuery: {
          name: 'cartesia_version',
          in: 'query',
          required: false,
          schema: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' },
        },
      },
    },
    'x-error-catalogue': Object.fromEntries(
      Object.entries(ERROR_CATALOGUE).map(([code, e]) => [code, { status: e.status, title: e.title }]),
    ),
  }
}

function operation(route: RouteDoc): Record<string, unknown> {
  return {
    operationId: operationId(route),
    summary: route.summary,
    tags: [route.tag],
    security: security(route.access, route.websocket !== undefined, keyScopes(route)),
    ...(typeof route.access === 'object' && { 'x-grant': route.access.grant }),
    ...(keyScopes(route).length > 0 && { 'x-api-key-scope': keyScopes(route)[0] }),
    parameters: [
      { $ref: '#/components/parameters/CartesiaVersion' },
      { $ref: '#/components/parameters/CartesiaVersionQuery' },
      ...(route.path.includes('{id}') ? [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }] : []),
      ...(route.query ? queryParameters(route.query) : []),
    ],
    ...(route.body && { requestBody: requestBody(route.body) }),
    responses: { [String(route.ok.status)]: okResponse(route), ...errorResponses(routeErrors(route)) },
    ...(route.websocket && { 'x-websocket': websocketDoc(route.websocket) }),
  }
}

const operationId = (route: RouteDoc): string =>
  route.method +
  (route.path === '/'
    ? 'Root'
    : route.path
        .replace(/\/$/, '/list')
        .replace(/\/\*$/, '/files')
        .split(/[^A-Za-z0-9]+/)
        .filter(Boolean)
        .map((w) => w[0]!.toUpperCase() + w.slice(1))
        .join(''))

function requestBody(body: NonNullable<RouteDoc['body']>): Record<string, unknown> {
  if (!body.multipart) return { required: true, content: { 'application/json': { schema: ref(body.name) } } }
  const fileField = {
    file: {
      type: 'string',
      contentMediaType: 'application/octet-stream',
      description: 'WAV, Ogg/WebM Opus, MP3, FLAC, or headerless PCM with encoding and sample_rate',
    },
  }
  return {
    required: true,
    content: {
      'multipart/form-data': {
        schema: { allOf: [ref(body.name), { type: 'object', required: ['file'], properties: fileField }] },
      },
    },
  }
}

function okResponse(route: RouteDoc): Record<string, unknown> {
  const { ok } = route
  if (!ok.type) return { description: ok.description }
  const schema = ok.properties
    ? { type: 'object', properties: ok.properties }
    : ok.type === 'application/json'
      ? { type: 'object' }
      : {}
  return { description: ok.description, content: { [ok.type]: { schema } } }
}

/** One response per status; its `error_code` is narrowed to the codes this route can send with it. */
function errorResponses(codes: readonly ErrorCode[]): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [status, group] of byStatus(codes)) {
    out[String(status)] = {
      description: group.map((c) => `\`${c}\``).join(', '),
      content: {
        'application/json': { schema: { allOf: [ref('Error'), { properties: { error_code: { enum: group } } }] } },
      },
    }
  }
  return out
}

function errorSchema(): JsonSchema {
  return {
    type: 'object',
    required: ['error_code', 'title', 'message', 'request_id'],
    properties: {
      error_code: { type: 'string', enum: Object.keys(ERROR_CATALOGUE) },
      title: { type: 'string' },
      message: { type: 'string', description: 'For people; never contains a credential' },
      request_id: { type: 'string' },
    },
  }
}

/** An SSE or WebSocket `error` event: the error's fields plus `type`, `done` and the legacy `error` string. */
function errorEventSchema(): JsonSchema {
  return {
    allOf: [
      ref('Error'),
      {
        type: 'object',
        required: ['type', 'done'],
        properties: {
          type: { const: 'error' },
          done: { const: true },
          context_id: { type: 'string' },
          error: { type: 'string' },
          status_code: { type: 'integer' },
        },
      },
    ],
  }
}

function websocketDoc(ws: WebSocketDoc): Record<string, unknown> {
  const names = Object.keys(ws.client)
  return {
    clientMessages: names.length > 0 ? { oneOf: names.map(ref) } : undefined,
    ...(ws.binary && { binaryFrames: ws.binary }),
    serverEvents: ws.server,
    errorEvent: ref('ErrorEvent'),
    closeCodes: ws.closeCodes,
  }
}

function securitySchemes(cookie: string | undefined): Record<string, unknown> {
  return {
    bearer: {
      type: 'http',
      scheme: 'bearer',
      description:
        '`Authorization: Bearer <API key or access token>` (access tokens are JWTs, so the value tells which)',
    },
    apiKeyHeader: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'An API key or access token' },
    accessTokenQuery: {
      type: 'apiKey',
      in: 'query',
      name: 'access_token',
      description: 'WebSocket upgrades only; on HTTP routes a credential in the URL is refused (`credential_in_query`)',
    },
    apiKeyQuery: { type: 'apiKey', in: 'query', name: 'api_key', description: 'WebSocket upgrades only' },
    tokenCookie: {
      type: 'apiKey',
      in: 'cookie',
      name: cookie ?? 'TOKEN_COOKIE',
      description: cookie
        ? 'Cookie mode: an access token, from the allowed origins only'
        : 'Cookie mode, when the server runs with `--token-cookie NAME` (off on this server)',
    },
  }
}

/**
 * The scope an API key needs on the route, the access decision the guard checks (http/route-doc.ts);
 * OpenAPI 3.1 lets a non-OAuth requirement list such role names. Empty for public routes and
 * any-credential ones.
 */
function keyScopes(route: RouteDoc): string[] {
  const access = accessOf(route)
  return access === 'public' || access === 'any' ? [] : [access]
}

/** Any one of the schemes will do (each is its own requirement object); key carriers name the key's scope. */
function security(access: Access, websocket: boolean, scopes: string[]): Record<string, string[]>[] {
  if (access === 'none') return []
  const keyCarriers = ['bearer', 'apiKeyHeader', ...(websocket ? ['apiKeyQuery'] : [])]
  const schemes = [
    'bearer',
    'apiKeyHeader',
    ...(access === 'api_key' ? [] : [...(websocket ? ['accessTokenQuery', 'apiKeyQuery'] : []), 'tokenCookie']),
  ]
  return schemes.map((name) => ({ [name]: keyCarriers.includes(name) ? scopes : [] }))
}
