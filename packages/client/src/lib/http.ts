import { apiErrorFrom, ConnectionError, StreamError, type ServerErrorBody } from '../errors.ts'

/** What every request to the voice API needs. */
export interface ApiContext {
  baseUrl: URL
  version: string
  fetch: typeof fetch
}

export interface ApiRequest {
  method: 'GET' | 'POST'
  path: string
  query?: Record<string, string | number | undefined>
  body?: unknown
  accept?: string
  signal?: AbortSignal
}

/** The URL of `path` under the base URL (keeping any base path such as `/voice`). */
export function apiUrl(base: URL, path: string, query: Record<string, string | number | undefined> = {}): URL {
  const url = new URL(base.href.replace(/\/$/, '') + path)
  for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, String(v))
  return url
}

/**
 * One call to the voice API. Memory mode sends `Authorization: Bearer` and no cookies; cookie mode
 * (`token` undefined) sends no credential and lets the browser attach the HttpOnly cookie. A non-2xx
 * answer becomes a typed `ApiError`.
 */
export async function apiFetch(ctx: ApiContext, req: ApiRequest, token: string | undefined): Promise<Response> {
  const headers: Record<string, string> = { 'cartesia-version': ctx.version }
  if (req.accept) headers.accept = req.accept
  if (req.body !== undefined) headers['content-type'] = 'application/json'
  if (token !== undefined) headers.authorization = `Bearer ${token}`
  let res: Response
  try {
    res = await ctx.fetch(apiUrl(ctx.baseUrl, req.path, req.query), {
      method: req.method,
      headers,
      credentials: token === undefined ? 'include' : 'omit',
      cache: 'no-store',
      ...(req.body !== undefined && { body: JSON.stringify(req.body) }),
      ...(req.signal && { signal: req.signal }),
    })
  } catch (cause) {
    if (req.signal?.aborted) throw new StreamError('ERR_ABORTED', 'The request was aborted.')
    throw new ConnectionError(
      'ERR_NETWORK',
      `The voice API at ${ctx.baseUrl.host} could not be reached.`,
      undefined,
      cause,
    )
  }
  if (!res.ok) throw apiErrorFrom(res.status, await errorBody(res))
  return res
}

async function errorBody(res: Response): Promise<ServerErrorBody | undefined> {
  try {
    return (await res.json()) as ServerErrorBody
  } catch {
    return undefined
  }
}
