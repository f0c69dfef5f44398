import { errorBody, type AppKitErrorCode, APP_KIT_ERRORS } from './errors.ts'

/** Every response of the app kit: JSON, never cached (a token must not land in any cache). */
export function json(
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
  for (const cookie of setCookies) headers.append('set-cookie', cookie)
  return new Response(JSON.stringify(body), { status, headers })
}

export function errorResponse(
  code: AppKitErrorCode,
  setCookies: readonly string[] = [],
  extra: Record<string, string> = {},
): Response {
  return json(APP_KIT_ERRORS[code].status, errorBody(code, crypto.randomUUID()), setCookies, extra)
}
