import { ERROR_CATALOGUE, type ErrorCode } from '@voxgate/protocol'
import type { Access, RouteDoc } from '../http/route-doc.ts'

const CREDENTIAL: ErrorCode[] = [
  'missing_credentials',
  'invalid_credentials',
  'token_expired',
  'token_revoked',
  'insecure_transport',
  'origin_not_allowed',
]
const JSON_BODY: ErrorCode[] = ['invalid_request', 'payload_too_large', 'unsupported_media_type', 'request_timeout']

/** The codes a credential check can end with, for a route's access rule and transport. */
function credentialErrors(access: Access, websocket: boolean): ErrorCode[] {
  if (access === 'none') return []
  const base = websocket ? CREDENTIAL : [...CREDENTIAL, 'credential_in_query' as const]
  // An API key without the route's scope is refused too (http/scopes.ts).
  if (access === 'api_key') return [...base, 'api_key_required', 'insufficient_scope']
  return access === 'any' ? base : [...base, 'insufficient_scope']
}

/** Every code a route can answer with: its own, its credential check's, its body's, and the server's. */
export function routeErrors(route: RouteDoc): ErrorCode[] {
  const codes = new Set<ErrorCode>([
    ...credentialErrors(route.access, route.websocket !== undefined),
    ...(route.body ? JSON_BODY : []),
    ...route.errors,
    'headers_too_large',
    'internal_error',
  ])
  return [...codes]
}

/** Codes grouped by the HTTP status the catalogue gives them, statuses in order. */
export function byStatus(codes: readonly ErrorCode[]): Map<number, ErrorCode[]> {
  const groups = new Map<number, ErrorCode[]>()
  for (const code of codes) {
    const status = ERROR_CATALOGUE[code].status
    groups.set(status, [...(groups.get(status) ?? []), code])
  }
  return new Map([...groups].sort(([a], [b]) => a - b))
}
