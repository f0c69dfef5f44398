import { VoxgateError } from '@voxgate/protocol'
import type { RouteAccess } from '../scopes.ts'

/**
 * The one table of route access, keyed `METHOD /template` as Fastify registers the route (a
 * WebSocket upgrade looks up its GET route). The guard reads it for every request; a route missing
 * from it is refused (and fails the table test in test/auth/scopes.test.ts).
 */
export const ROUTE_ACCESS: Readonly<Record<string, RouteAccess>> = {
  'GET /': 'public',
  'GET /.well-known/jwks.json': 'public',
  'GET /healthz': 'public',
  'GET /readyz': 'public',
  'GET /openapi.json': 'public',
  'POST /access-token': 'mint',
  // A `mint` key revokes the tokens it minted; a `sub` or another key's token needs `admin` (the route checks).
  'POST /access-token/revoke': 'mint',
  'GET /access-token/self': 'any',
  'GET /usage': 'read',
  'GET /quotas': 'read',
  'GET /quotas/:id': 'read',
  'PUT /quotas': 'admin',
  'DELETE /quotas/:id': 'admin',
  'POST /api-keys': 'admin',
  'GET /api-keys': 'read',
  'GET /api-keys/:id': 'read',
  'PATCH /api-keys/:id': 'admin',
  'DELETE /api-keys/:id': 'admin',
  'POST /api-keys/:id/rotate': 'admin',
  'GET /audit': 'read',
  'POST /webhooks': 'admin',
  // A `read` key sees the URLs with their path and query masked (the route checks).
  'GET /webhooks': 'read',
  'DELETE /webhooks/:id': 'admin',
  'GET /webhooks/:id/deliveries': 'read',
  'POST /webhooks/:id/test': 'admin',
  'POST /webhooks/:id/rotate-secret': 'admin',
  'POST /tts/bytes': 'speech',
  'POST /tts/sse': 'speech',
  'GET /tts/websocket': 'speech',
  'GET /voices': 'speech',
  'GET /voices/': 'speech',
  'GET /voices/:id': 'speech',
  'POST /stt': 'speech',
  'POST /audio/transcriptions': 'speech',
  'GET /stt/websocket': 'speech',
  'GET /stt/turns/websocket': 'speech',
  'POST /voice-changer/bytes': 'speech',
  'POST /voice-changer/sse': 'speech',
  'POST /v1/audio/speech': 'speech',
  'POST /audio/speech': 'speech',
  'POST /v1/audio/transcriptions': 'speech',
  // Lists what the OpenAI routes accept; any credential, as `GET /access-token/self`.
  'GET /v1/models': 'any',
  // The operator console (--console): its files, and its sign-in and sign-out, which check what they
  // are sent themselves (a code, a key, the session cookie); its session and live events read.
  'GET /console': 'public',
  'GET /console/': 'public',
  'GET /console/*': 'public',
  'POST /console/api/login': 'public',
  'POST /console/api/logout': 'public',
  'GET /console/api/session': 'read',
  'GET /console/api/events': 'read',
}

/** The access decision of a route; HEAD is its GET. A route with no decision fails closed. */
export function routeAccess(method: string, template: string): RouteAccess {
  const access = ROUTE_ACCESS[`${method === 'HEAD' ? 'GET' : method} ${template}`]
  if (access === undefined)
    throw new VoxgateError('internal_error', `route ${method} ${template} has no access decision`)
  return access
}
