import type { IncomingHttpHeaders } from 'node:http'
import { VoxgateError } from '@voxgate/protocol'
import { CREDENTIAL_MAX_CHARS } from './api-keys.ts'

export type Carrier = 'authorization' | 'x-api-key' | 'query' | 'cookie'

export interface Credential {
  value: string
  carrier: Carrier
}

export interface CredentialRequest {
  headers: IncomingHttpHeaders
  query: URLSearchParams
  /** Query-string credentials are accepted on the WebSocket upgrade only (URLs end up in logs). */
  websocket: boolean
}

const invalid = (): VoxgateError => new VoxgateError('invalid_credentials', 'The credential is malformed.')

/**
 * Finds the one credential of a request. Precedence: `Authorization: Bearer`, `X-API-Key`, the
 * WebSocket query (`access_token`, then `api_key`), then the token cookie. Node lower-cases header
 * names, so carriers are case-insensitive by construction.
 */
export function extractCredential(req: CredentialRequest, cookieName?: string): Credential | undefined {
  const fromQuery = req.query.get('access_token') ?? req.query.get('api_key')
  if (fromQuery !== null && !req.websocket) {
    throw new VoxgateError(
      'credential_in_query',
      'Credentials are not accepted in the URL of HTTP routes; send them in the Authorization header.',
    )
  }
  const auth = req.headers.authorization
  if (auth !== undefined) return checked(bearerValue(auth), 'authorization')
  const apiKey = req.headers['x-api-key']
  if (apiKey !== undefined) return checked(Array.isArray(apiKey) ? '' : apiKey.trim(), 'x-api-key')
  if (fromQuery !== null) return checked(fromQuery, 'query')
  if (cookieName) {
    const fromCookie = readCookie(req.headers.cookie, cookieName)
    if (fromCookie !== undefined) return checked(fromCookie, 'cookie')
  }
  return undefined
}

function bearerValue(header: string): string {
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header)
  if (!match?.[1]) throw invalid()
  return match[1]
}

function checked(value: string, carrier: Carrier): Credential {
  if (value.length === 0 || value.length > CREDENTIAL_MAX_CHARS) throw invalid()
  return { value, carrier }
}

/**
 * Reads one cookie by name from a `Cookie` header without decoding anything else. Two cookies of the
 * same name mean a sibling subdomain planted one ("cookie tossing"): refused, not guessed at.
 */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined
  let found: string | undefined
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      if (found !== undefined) throw invalid()
      found = part.slice(eq + 1).trim()
    }
  }
  return found !== undefined && found.length > 0 ? found : undefined
}
