import { clientAddress } from '@voxgate/app-kit'
import type { AppConfig } from '../config.ts'
import type { AppDb } from '../db.ts'
import type { createLogger } from '../logger.ts'
import type { Passwords } from '../passwords.ts'
import { sessionCookie } from '../sessions.ts'
import type { SignInThrottle } from '../sign-in-throttle.ts'
import { credentialsOf, tooManyAttempts } from './credentials.ts'
import { jsonResponse } from './respond.ts'

export interface SignInDeps {
  config: Readonly<AppConfig>
  db: AppDb
  logger: ReturnType<typeof createLogger>
  passwords: Passwords
  throttle: SignInThrottle
}

/** `POST /api/sign-in`: a session cookie for the right password; one answer for every wrong one. */
export function signInRoute(deps: SignInDeps): (request: Request) => Promise<Response> {
  return async (request) => {
    const creds = await credentialsOf(request, deps.config.origin)
    if (creds instanceof Response) return creds
    const address = clientAddress(request)
    // Counted before the password is checked, so a locked account refuses even the right password.
    const wait = deps.throttle.begin(creds.email, address)
    if (wait > 0) {
      deps.logger.warn({ retry_after: wait }, 'sign-in throttled')
      return tooManyAttempts(wait, 'Too many failed sign-ins; try again later.')
    }
    const user = deps.db.userByEmail(creds.email)
    if (!(await deps.passwords.verify(user?.passwordHash, creds.password)) || !user) {
      deps.logger.info({}, 'sign-in refused')
      return jsonResponse(401, { error_code: 'wrong_credentials', message: 'Wrong email or password.' })
    }
    deps.throttle.succeeded(creds.email, address)
    deps.logger.info({ user_id: user.id }, 'signed in')
    const sid = deps.db.createSession(user.id, deps.config.sessionLifetimeSeconds)
    return jsonResponse(200, { signed_in: true }, [sessionCookie(sid, deps.config.sessionLifetimeSeconds)])
  }
}
