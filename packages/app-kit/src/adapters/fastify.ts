import type { IncomingHttpHeaders } from 'node:http'
import { withClientAddress } from '../client-address.ts'
import type { RouteHandler } from '../token-route.ts'

/** The parts of a Fastify request and reply the adapter uses (fastify is not a dependency). */
export interface FastifyLikeRequest {
  method: string
  url: string
  protocol: string
  headers: IncomingHttpHeaders
  body?: unknown
  /** The client address (Fastify honours its own `trustProxy` option here). */
  ip?: string
}
export interface FastifyLikeReply {
  code(status: number): unknown
  header(name: string, value: string | string[]): unknown
  send(payload?: unknown): unknown
}
export type FastifyHandler = (request: FastifyLikeRequest, reply: FastifyLikeReply) => Promise<FastifyLikeReply>

type Done = (err: Error | null, body?: unknown) => void
/** The parts of a Fastify instance the plugin uses. */
export interface FastifyLikeInstance {
  removeAllContentTypeParsers(): void
  addContentTypeParser(
    type: string,
    opts: { parseAs: 'buffer' },
    // biome-ignore lint/suspicious/noExplicitAny: Fastify's parser takes its own request type; `any` keeps a real instance assignable without importing Fastify
    parser: (req: any, body: Buffer, done: Done) => void,
  ): void
  all(path: string, handler: FastifyHandler): unknown
}

function bodyOf(body: unknown): BodyInit | undefined {
  if (body === undefined || body === null) return undefined
  if (typeof body === 'string') return body
  if (body instanceof Uint8Array) return new Uint8Array(body)
  return JSON.stringify(body)
}

function toWebRequest(request: FastifyLikeRequest): Request {
  const headers = new Headers()
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v)
  }
  const url = new URL(request.url, `${request.protocol}://${request.headers.host ?? 'localhost'}`)
  const body = request.method === 'GET' || request.method === 'HEAD' ? undefined : bodyOf(request.body)
  return withClientAddress(
    new Request(url, { method: request.method, headers, ...(body !== undefined && { body }) }),
    request.ip,
  )
}

/**
 * A Fastify route handler: `app.post('/api/voice-token', toFastifyHandler(voice.tokenRoute))`.
 * Fastify parses bodies before handlers run, so a type it has no parser for is refused by Fastify
 * itself (also a 415); `fastifyRoutes` keeps the app kit's own checks and error shape for every case.
 */
export function toFastifyHandler(handler: RouteHandler): FastifyHandler {
  return async (request, reply) => {
    const response = await handler(toWebRequest(request))
    reply.code(response.status)
    for (const [name, value] of response.headers) if (name !== 'set-cookie') reply.header(name, value)
    const cookies = response.headers.getSetCookie()
    if (cookies.length > 0) reply.header('set-cookie', cookies)
    reply.send(Buffer.from(await response.arrayBuffer()))
    return reply
  }
}

/**
 * A Fastify plugin mounting routes for every method, with raw bodies, so the app kit alone decides
 * 405, 403 and 415. Register it unwrapped (encapsulated): its body parsers stay inside it.
 *
 * @example
 * ```ts
 * await app.register(fastifyRoutes({ '/api/voice-token': voice.tokenRoute, '/api/sign-out': voice.signOutRoute }))
 * ```
 */
export function fastifyRoutes(
  routes: Readonly<Record<string, RouteHandler>>,
): (instance: FastifyLikeInstance) => Promise<void> {
  return async (instance) => {
    instance.removeAllContentTypeParsers()
    instance.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body))
    for (const [path, handler] of Object.entries(routes)) instance.all(path, toFastifyHandler(handler))
  }
}
