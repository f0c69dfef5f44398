import { AppKitError, guardRequest } from '@voxgate/app-kit'
import { PASSWORD_MAX_CHARS, PASSWORD_MIN_CHARS } from '../passwords.ts'
import { jsonResponse } from './respond.ts'

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,190}\.[^\s@]{1,60}$/

export interface Credentials {
  /** Trimmed and lower-cased: one account however the address is typed. */
  email: string
  password: string
}

/** The `{email, password}` body, or an error response naming what is wrong (never the values). */
export async function credentialsOf(request: Request, allowedOrigin: string): Promise<Credentials | Response> {
  try {
    guardRequest(request, [allowedOrigin])
  } catch (err) {
    if (err instanceof AppKitError) return jsonResponse(err.status, { error_code: err.code, message: err.message })
    throw err
  }
  const body: unknown = await request.json().catch(() => undefined)
  const { email, password } = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>
  if (typeof email !== 'string' || !EMAIL.test(email.trim()))
    return jsonResponse(400, { error_code: 'invalid_email', message: 'Enter a valid email address.' })
  if (typeof password !== 'string' || password.length < PASSWORD_MIN_CHARS || password.length > PASSWORD_MAX_CHARS) {
    return jsonResponse(400, {
      error_code: 'invalid_password',
      message: `Use a password of ${PASSWORD_MIN_CHARS} to ${PASSWORD_MAX_CHARS} characters.`,
    })
  }
  return { email: email.trim().toLowerCase(), password }
}

/** 429 `too_many_attempts`: the throttles of sign-in and sign-up answer alike. */
export function tooManyAttempts(retryAfterSeconds: number, message: string): Response {
  return jsonResponse(429, { error_code: 'too_many_attempts', message }, [], {
    'retry-after': String(retryAfterSeconds),
  })
}
