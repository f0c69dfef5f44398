import { AppKitError } from './errors.ts'

/**
 * The checks every state-changing route of the app kit makes before anything else: POST only,
 * `Origin` exactly one of the app's own (a browser always sends it on a POST, and a forged cross-site
 * request cannot fake it), and a JSON body type, which a cross-site HTML form cannot send.
 * Throws the coded failure; returns nothing when the request may proceed.
 */
export function guardRequest(request: Request, allowedOrigins: readonly string[]): void {
  if (request.method !== 'POST') throw new AppKitError('method_not_allowed')
  const origin = request.headers.get('origin')
  if (origin === null || !allowedOrigins.includes(origin)) throw new AppKitError('origin_not_allowed')
  const type = (request.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase()
  if (type !== 'application/json') throw new AppKitError('unsupported_media_type')
}
