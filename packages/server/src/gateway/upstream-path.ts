/**
 * An upstream path built from segments, each percent-encoded: a client's value never adds a `/` or a
 * query. A segment a URL parser would resolve (`.`, `..`, or their `%2e` spellings, which
 * `encodeURIComponent` leaves as they are) or an empty one is refused: it would move the request
 * elsewhere on the upstream, with the upstream key (`/voices/..` is the upstream's `GET /`).
 */
export function upstreamPath(...segments: string[]): string {
  return segments.map((s) => `/${encodeSegment(s)}`).join('')
}

const DOT_SEGMENT = /^(?:\.|%2e){1,2}$/i

function encodeSegment(segment: string): string {
  const encoded = encodeURIComponent(segment)
  if (encoded === '' || DOT_SEGMENT.test(encoded)) throw new TypeError(`not a path segment: ${JSON.stringify(segment)}`)
  return encoded
}
