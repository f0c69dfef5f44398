import { AppKitError } from './errors.ts'
import type { ResolvedOptions, VoiceUser } from './options.ts'

/** RFC 6265 cookie-octets: a token must fit in a cookie and a header unchanged. */
const TOKEN_CHARS = /^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]{1,8192}$/

/** Why a call to the voice API failed, for the log only (a status or a short error code, never a body). */
export class VoiceApiError extends AppKitError {
  readonly reason: string
  constructor(reason: string, cause?: unknown) {
    super('mint_failed', { cause })
    this.reason = reason
  }
}

async function post(o: ResolvedOptions, path: string, body: unknown): Promise<unknown> {
  let res: Response
  try {
    res = await o.fetch(`${o.voiceApiUrl}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${o.apiKey}`, 'content-type': 'application/json', 'cartesia-version': o.cartesiaVersion },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(o.voiceApiTimeoutMs),
      redirect: 'error',
    })
  } catch (err) {
    throw new VoiceApiError(err instanceof Error && err.name === 'TimeoutError' ? 'timeout' : 'network', err)
  }
  const text = await res.text().catch(() => '')
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    parsed = undefined
  }
  if (!res.ok) throw new VoiceApiError(`status ${res.status}${errorCodeOf(parsed)}`)
  return parsed
}

function errorCodeOf(body: unknown): string {
  const code = typeof body === 'object' && body !== null ? (body as Record<string, unknown>).error_code : undefined
  return typeof code === 'string' && /^[a-z0-9_]{1,64}$/.test(code) ? ` ${code}` : ''
}

/** `POST /access-token` with the API key; returns the token string after checking its shape. */
export async function mintToken(o: ResolvedOptions, user: VoiceUser): Promise<string> {
  const body = {
    grants: o.grants,
    expires_in: o.expiresInSeconds,
    ...(o.subject !== false && { sub: o.subject(user) }),
  }
  const parsed = await post(o, '/access-token', body)
  const token = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>).token : undefined
  if (typeof token !== 'string' || !TOKEN_CHARS.test(token)) throw new VoiceApiError('malformed answer')
  return token
}

/**
 * voxgate's `POST /access-token/revoke {sub, issued_before}`: every token of the user minted up to
 * now. Returns the subject and cutoff (Unix seconds), or undefined when tokens carry no `sub`.
 */
export async function revokeUserTokens(o: ResolvedOptions, user: VoiceUser): Promise<{ subject: string; cutoff: number } | undefined> {
  if (o.subject === false) return undefined
  // `issued_before` is exclusive and in whole seconds, so the current second is included.
  const revoked = { subject: o.subject(user), cutoff: Math.floor(o.now() / 1000) + 1 }
  await post(o, '/access-token/revoke', { sub: revoked.subject, issued_before: revoked.cutoff })
  return revoked
}
