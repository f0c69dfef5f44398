import type { FastifyInstance } from 'fastify'

/** Request headers the official SDK sends from a browser (PROTOCOL.md §0.8). */
const ALLOWED_HEADERS = [
  'authorization',
  'content-type',
  'cartesia-version',
  'x-cartesia-client',
  'x-api-key',
  'x-stainless-lang',
  'x-stainless-package-version',
  'x-stainless-os',
  'x-stainless-arch',
  'x-stainless-runtime',
  'x-stainless-runtime-version',
  'x-stainless-retry-count',
  'x-stainless-timeout',
].join(', ')
const EXPOSED_HEADERS = 'retry-after, x-request-id, x-should-retry, www-authenticate'

/**
 * CORS. With no allowlist (memory mode only), any origin may call with a bearer token and no cookies
 * (`*`, never with credentials). With an allowlist, exactly those origins get a grant, with
 * credentials, so the token cookie can ride along; any other origin gets no CORS grant at all.
 */
export function registerCors(app: FastifyInstance, allowedOrigins: readonly string[]): void {
  const grant = (origin: string | undefined): Record<string, string> | undefined => {
    if (origin === undefined) return undefined
    if (allowedOrigins.length === 0) return { 'access-control-allow-origin': '*' }
    if (!allowedOrigins.includes(origin)) return undefined
    return { 'access-control-allow-origin': origin, 'access-control-allow-credentials': 'true' }
  }
  // Callback-style (nothing is awaited): an async hook costs a promise and a microtask hop per request.
  app.addHook('onRequest', (request, reply, done) => {
    // The answer depends on Origin whether or not it grants, so caches must key on it either way.
    if (allowedOrigins.length > 0) reply.header('vary', 'Origin')
    const origin = typeof request.headers.origin === 'string' ? request.headers.origin : undefined
    const headers = grant(origin)
    if (request.method === 'OPTIONS' && request.headers['access-control-request-method'] !== undefined) {
      if (headers) {
        reply.headers({
          ...headers,
          'access-control-allow-methods': 'GET, POST, OPTIONS',
          'access-control-allow-headers': ALLOWED_HEADERS,
          'access-control-max-age': '600',
        })
      }
      // Answered here: a hook that sends does not call `done`.
      reply.code(204).send()
      return
    }
    if (headers) reply.headers({ ...headers, 'access-control-expose-headers': EXPOSED_HEADERS })
    done()
  })
}
