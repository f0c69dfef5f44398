/**
 * The syntax of a web origin as voxgate takes it (token `limits.origins`, `--allowed-origin`, the app
 * kit's origins): `http(s)://host[:port]`, no path, query, fragment or whitespace.
 */
export const ORIGIN_PATTERN = /^https?:\/\/[^/\s?#]+$/

export function isOrigin(value: unknown): value is string {
  return typeof value === 'string' && ORIGIN_PATTERN.test(value)
}
