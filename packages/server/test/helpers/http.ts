export interface ApiResponse {
  status: number
  headers: Headers
  text: string
  /** The parsed body when it is JSON, else undefined. */
  json: any
}

/** One request to a test server; the body is sent as JSON unless it is already a string. */
export async function call(
  url: string,
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: unknown } = {},
): Promise<ApiResponse> {
  const headers: Record<string, string> = { ...init.headers }
  let body: string | undefined
  if (init.body !== undefined) {
    body = typeof init.body === 'string' ? init.body : JSON.stringify(init.body)
    headers['content-type'] ??= 'application/json'
  }
  const res = await fetch(url + path, {
    method: init.method ?? (body === undefined ? 'GET' : 'POST'),
    headers,
    ...(body !== undefined && { body }),
  })
  const text = await res.text()
  let json: unknown
  if ((res.headers.get('content-type') ?? '').includes('application/json')) json = JSON.parse(text)
  return { status: res.status, headers: res.headers, text, json }
}

export const bearer = (credential: string): Record<string, string> => ({ authorization: `Bearer ${credential}` })

/** Mints a token with an API key; throws unless the server answers 200. */
export async function mint(
  url: string,
  apiKey: string,
  body: unknown = { grants: { tts: true }, expires_in: 60 },
): Promise<string> {
  const res = await call(url, '/access-token', { headers: bearer(apiKey), body })
  if (res.status !== 200) throw new Error(`mint failed: ${res.status} ${res.text}`)
  return res.json.token
}
