import { AppKitError, clientAddress, guardRequest } from '@voxgate/app-kit'
import type { AppConfig } from '../config.ts'
import type { AppDb } from '../db.ts'
import type { createLogger } from '../logger.ts'
import { PASSWORD_PROBLEMS, passwordProblem } from '../password-policy.ts'
import { hashPassword, PASSWORD_MAX_CHARS, PASSWORD_MIN_CHARS, verifyPassword } from '../passwords.ts'
import { sessionCookie } from '../sessions.ts'
import type { SignInThrottle } from '../sign-in-throttle.ts'
import { jsonResponse } from './respond.ts'

type Logger = ReturnType<typeof createLogger>
export interface AuthDeps {
  config: Readonly<AppConfig>
  db: AppDb
  logger: Logger
  throttle: SignInThrottle
}

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,190}\.[^\s@]{1,60}$/

interface Credentials {
  email: string
  password: string
}

/** The `{email, password}` body, or an error response naming what is wrong (never the values). */
async function credentialsOf(request: Request, allowedOrigin: string): Promise<Credentials | Response> {
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

function signedIn(deps: AuthDeps, userId: string, status: number): Response {
  const sid = deps.db.createSession(userId, deps.config.sessionLifetimeSeconds)
  return jsonResponse(status, { signed_in: true }, [sessionCookie(sid, deps.config.sessionLifetimeSeconds)])
}

export function signUpRoute(deps: AuthDeps): (request: Request) => Promise<Response> {
  return async (request) => {
    const creds = await credentialsOf(request, deps.config.origin)
    if (creds instanceof Response) return creds
    const problem = passwordProblem(creds.password, creds.email)
    if (problem)
      return jsonResponse(400, { error_code: 'weak_password', reason: problem, message: PASSWORD_PROBLEMS[problem] })
    const user = deps.db.createUser(creds.email, await hashPassword(creds.password))
    if (!user)
      return jsonResponse(409, {
        error_code: 'email_taken',
        message: 'An account with this email exists; sign in instead.',
      })
    deps.logger.info({ user_id: user.id }, 'signed up')
    return signedIn(deps, user.id, 201)
  }
}

export function signInRoute(deps: AuthDeps): (request: Request) => Promise<Response> {
  return async (request) => {
    const creds = await credentialsOf(request, deps.config.origin)
    if (creds instanceof Response) return creds
    const address = clientAddress(request)
    // Counted before the password is checked, so a locked account refuses even the right password.
    const wait = deps.throttle.begin(creds.email, address)
    if (wait > 0) {
      deps.logger.warn({ retry_after: wait }, 'sign-in throttled')
      return jsonResponse(
        429,
        { error_code: 'too_many_attempts', message: 'Too many failed sign-ins; try again later.' },
        [],
        { 'retry-after': String(wait) },
      )
    }
    const user = deps.db.userByEmail(creds.email)
    if (!(await verifyPassword(user?.passwordHash, creds.password)) || !user) {
      deps.logger.info({}, 'sign-in refused')
      return jsonResponse(401, { error_code: 'wrong_credentials', message: 'Wrong email or password.' })
    }
    deps.throttle.succeeded(creds.email, address)
    deps.logger.info({ user_id: user.id }, 'signed in')
    return signedIn(deps, user.id, 200)
  }
}
