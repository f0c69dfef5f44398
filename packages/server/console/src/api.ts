/** An error the API answered: its `error_code` and message, shown as they are. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

/**
 * Calls one of voxgate's own routes with the console's session cookie (HttpOnly: this page never
 * sees it). Writes carry the page's Origin, as browsers send it; the server checks it.
 */
export async function api<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
  let res: Response
  try {
    res = await fetch(path, {
      method,
      credentials: 'same-origin',
      headers: { accept: 'application/json', ...(body !== undefined && { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
  } catch {
    throw new ApiError(0, 'network_error', 'The server could not be reached.')
  }
  if (res.status === 204) return undefined as T
  const text = await res.text()
  let json: unknown
  try {
    json = text ? JSON.parse(text) : undefined
  } catch {
    json = undefined
  }
  if (!res.ok) {
    const err = (json ?? {}) as { error_code?: string; message?: string }
    const error = new ApiError(res.status, err.error_code ?? `http_${res.status}`, err.message ?? res.statusText)
    if (res.status === 401 && path !== '/console/api/login') window.dispatchEvent(new CustomEvent('signed-out'))
    throw error
  }
  return json as T
}

/** Whether a route exists on this server (a route of a later version answers 404 here). */
export async function routeExists(path: string): Promise<boolean> {
  try {
    await api('GET', path)
    return true
  } catch (err) {
    return !(err instanceof ApiError && err.status === 404 && err.code === 'not_found')
  }
}
