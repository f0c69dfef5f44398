/** The version voxgate reports on `GET /` and assumes when a client sends none (SDK4's). */
export const DEFAULT_API_VERSION = '2026-08-14'
const DATE = /^\d{4}-\d{2}-\d{2}$/

/**
 * The API version of a request: `?cartesia_version=` wins over the `Cartesia-Version` header
 * (PROTOCOL.md §1). Any date is accepted (SDKs send dates the docs never listed); anything else
 * falls back to the default.
 */
export function apiVersion(header: string | string[] | undefined, query: URLSearchParams): string {
  const fromQuery = query.get('cartesia_version')
  const value = fromQuery ?? (Array.isArray(header) ? header[0] : header)
  return value !== undefined && DATE.test(value) ? value : DEFAULT_API_VERSION
}
