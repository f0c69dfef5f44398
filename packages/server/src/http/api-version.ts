import { API_VERSION, API_VERSION_PATTERN } from '@voxgate/protocol'

/** The version voxgate reports on `GET /` and assumes when a client sends none (SDK4's). */
export const DEFAULT_API_VERSION = API_VERSION

/**
 * The API version of a request: `?cartesia_version=` wins over the `Cartesia-Version` header
 * (PROTOCOL.md §1). Any date is accepted (SDKs send dates the docs never listed); anything else
 * falls back to the default.
 */
export function apiVersion(header: string | string[] | undefined, query: URLSearchParams): string {
  const fromQuery = query.get('cartesia_version')
  const value = fromQuery ?? (Array.isArray(header) ? header[0] : header)
  return value !== undefined && API_VERSION_PATTERN.test(value) ? value : DEFAULT_API_VERSION
}
