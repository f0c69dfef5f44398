import type { z } from 'zod'
import type { ErrorCode } from '@voxgate/protocol'
import type { RouteAccess, Scope } from '../scopes.ts'

/**
 * A route's documentation, kept by the feature that serves the route (app/feature.ts `docs`). The
 * OpenAPI document is generated from the features' records, and the guard's access decisions are
 * derived from them (http/scopes.ts), so a route is described once. Here, in the transports layer,
 * so that every feature may write its records and the guard may read them.
 */

/** Who may call a route: nobody needs a credential, an API key only, any credential, or a grant. */
export type Access = 'none' | 'api_key' | 'any' | { grant: 'tts' | 'voices' | 'stt' | 'voice_changer' }

/** The scope an API key needs on a key-only route (`admin` implies the others; scopes.ts). */
export type KeyScope = Exclude<Scope, 'speech'>

/** The upgrade side of a WebSocket route: what the client sends and the events it gets back. */
export interface WebSocketDoc {
  /** JSON text frames the client sends, by name (their schemas are the server's). */
  client: Record<string, z.ZodType>
  /** Binary frames, when the socket takes audio. */
  binary?: string
  /** Event `type`s the server sends. */
  server: string[]
  closeCodes: Record<string, string>
}

interface RouteDocFields {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete'
  /** OpenAPI path (`{id}`), the Fastify route `/voices/:id`. */
  path: string
  summary: string
  tag: string
  body?: { schema: z.ZodType; name: string; multipart?: boolean }
  query?: z.ZodObject
  /** The success answer's media type and, where the answer is small and fixed, its properties. */
  ok: { status: number; type: string; description: string; properties?: Record<string, Record<string, unknown>> }
  /** Failures particular to the route (the credential, body and server-wide ones are added). */
  errors: ErrorCode[]
  websocket?: WebSocketDoc
}

/**
 * One route: everything but the schemas, which come from the validators. A key-only route names the
 * scope a key needs; a token route's grant stands for the `speech` scope.
 */
export type RouteDoc = RouteDocFields &
  ({ access: 'api_key'; scope: KeyScope } | { access: Exclude<Access, 'api_key'>; scope?: never })

/** The route's access decision for API keys (http/scopes.ts): what the guard checks a key against. */
export function accessOf(doc: RouteDoc): RouteAccess {
  if (doc.access === 'api_key') return doc.scope
  if (doc.access === 'none') return 'public'
  return doc.access === 'any' ? 'any' : 'speech'
}

/** The route as Fastify registers it: `GET /voices/:id`. */
export const routeKey = (doc: RouteDoc): string =>
  `${doc.method.toUpperCase()} ${doc.path.replace(/\{([A-Za-z_]+)\}/g, ':$1')}`

/** What a relay in gateway mode (`voxgate serve --upstream`) adds: the upstream's own failures. */
export const UPSTREAM_ERRORS: ErrorCode[] = [
  'upstream_unauthorized',
  'upstream_error',
  'upstream_unavailable',
  'upstream_timeout',
]

/** The close codes every socket may end with; a socket adds its own. */
export const WS_CLOSE_CODES = {
  1000: 'idle (no message for the idle timeout while nothing is spoken), or a normal close',
  1001: 'server shutdown',
  1007: 'a text frame that is not UTF-8',
  1008: 'a client that floods the socket or does not read it',
  4401: 'credential revoked, or expired past the session grace',
}

export const WS_UPGRADE =
  'A WebSocket upgrade (`Upgrade: websocket`); the credential is checked before the upgrade, so a refusal is an HTTP status. A plain GET gets 400.'

/** A JSON success answer (200), with its properties where they are few and fixed. */
export const json = (description: string, properties?: Record<string, Record<string, unknown>>) => ({
  status: 200,
  type: 'application/json',
  description,
  ...(properties && { properties }),
})
