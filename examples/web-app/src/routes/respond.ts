/** A JSON answer that no cache keeps. */
export function jsonResponse(
  status: number,
  body: unknown,
  setCookies: readonly string[] = [],
  extra: Record<string, string> = {},
): Response {
  const headers = new Headers({
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    ...extra,
  })
  for (const c of setCookies) headers.append('set-cookie', c)
  return new Response(JSON.stringify(body), { status, headers })
}
