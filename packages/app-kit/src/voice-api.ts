import { CREDENTIAL_MAX_CHARS } from '@voxgate/protocol'
import { AppKitError } from './errors.ts'
import type { ResolvedOptions } from './options.ts'
import type { ResolvedTokenSpec } from './token-spec.ts'

/** RFC 6265 cookie-octets: a token must fit in a cookie and a header unchanged. */
const TOKEN_CHARS = new RegExp(`^[\\x21\\x23-\\x2B\\x2D-\\x3A\\x3C-\\x5B\\x5D-\\x7E]{1,${CREDENTIAL_MAX_CHARS}}$`)

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
      headers: {
        authorization: `Bearer ${o.apiKey}`,
        'content-type': 'application/json',
        'cartesia-version': o.cartesiaVersion,
      },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(o.voiceApiTimeoutMs),
      redirect: 'error',
    })
  } catch (err) {
    throw new VoiceApiError(err instanceof Error && err.name === 'TimeoutError' ? 'timeout' : networkReason(err), err)
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

/** Node's socket and TLS error codes: constants, safe to log (no address, no key). */
const NETWORK_CODE = /^(E[A-Z_]+|ERR_[A-Z_]+|UND_ERR_[A-Z_]+|[A-Z_]*CERT[A-Z_]*)$/

/**
 * `network` and, where fetch says why, the code of the cause (`fetch failed` wraps it):
 * `network ECONNREFUSED`, `network SELF_SIGNED_CERT_IN_CHAIN` (the voice API's CA is not trusted).
 */
function networkReason(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown; errors?: { code?: unknown }[] } } | undefined)?.cause
  const code = cause?.code ?? cause?.errors?.[0]?.code
  return typeof code === 'string' && NETWORK_CODE.test(code) ? `network ${code}` : 'network'
}

function errorCodeOf(body: unknown): string {
  const code = typeof body === 'object' && body !== null ? (body as Record<string, unknown>).error_code : undefined
  return typeof code === 'string' && /^[a-z0-9_]{1,64}$/.test(code) ? ` ${code}` : ''
}

/** `POST /access-token` with the API key; returns the token string after checking its shape. */
export async function mintToken(o: ResolvedOptions, spec: ResolvedTokenSpec): Promise<string> {
  const body = {
    grants: spec.grants,
    expires_in: o.expiresInSeconds,
    ...(spec.sub !== undefined && { sub: spec.sub }),
    ...(spec.limits !== undefined && { limits: spec.limits }),
  }
  const parsed = await post(o, '/access-token', body)
  const token = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>).token : undefined
  if (typeof token !== 'string' || !TOKEN_CHARS.test(token)) throw new VoiceApiError('malformed answer')
  return token
}

/**
 * voxgate's `POST /access-token/revoke {sub, issued_before}`: every token of `subject` minted up to
 * now. Returns the cutoff (Unix seconds).
 */
export async function revokeSubject(o: ResolvedOptions, subject: string): Promise<number> {
  // `issued_before` is exclusive and in whole seconds, so the current second is included.
  const cutoff = Math.floor(o.now() / 1000) + 1
  await post(o, '/access-token/revoke', { sub: subject, issued_before: cutoff })
  return cutoff
}
