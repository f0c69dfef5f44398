import { clientAddress } from '@voxgate/app-kit'
import type { AppConfig } from '../config.ts'
import type { AppDb } from '../db.ts'
import type { createLogger } from '../logger.ts'
import { PASSWORD_PROBLEMS, passwordProblem } from '../password-policy.ts'
import type { Passwords } from '../passwords.ts'
import type { SignUpThrottle } from '../sign-up-throttle.ts'
import { credentialsOf, tooManyAttempts } from './credentials.ts'
import { jsonResponse } from './respond.ts'

export interface SignUpDeps {
  config: Readonly<AppConfig>
  db: AppDb
  logger: ReturnType<typeof createLogger>
  passwords: Passwords
  throttle: SignUpThrottle
}

/**
 * The one answer to a sign-up that passed the checks, for a new email and a taken one alike: same
 * status, same bytes, no cookie. Only signing in (throttled) tells whether the password is the account's.
 */
export const SIGN_UP_ANSWER = Object.freeze({
  next: 'sign_in',
  message: 'Thanks. Now sign in with this email and password.',
})

/**
 * `POST /api/sign-up`. A new email gets an account, a taken one keeps its own; either way the request
 * costs exactly one password hash and one `INSERT OR IGNORE`, and answers 202 with `SIGN_UP_ANSWER`,
 * so neither the answer nor its timing says which emails have accounts.
 */
export function signUpRoute(deps: SignUpDeps): (request: Request) => Promise<Response> {
  return async (request) => {
    const creds = await credentialsOf(request, deps.config.origin)
    if (creds instanceof Response) return creds
    const problem = passwordProblem(creds.password, creds.email)
    if (problem)
      return jsonResponse(400, { error_code: 'weak_password', reason: problem, message: PASSWORD_PROBLEMS[problem] })
    // Counted before the hash, which is what the throttle protects.
    const wait = deps.throttle.begin(clientAddress(request))
    if (wait > 0) {
      deps.logger.warn({ retry_after: wait }, 'sign-up throttled')
      return tooManyAttempts(wait, 'Too many sign-ups from your network; try again later.')
    }
    const user = deps.db.createUser(creds.email, await deps.passwords.hash(creds.password))
    if (user) deps.logger.info({ user_id: user.id }, 'signed up')
    else deps.logger.info({}, 'sign-up for an existing account')
    return jsonResponse(202, SIGN_UP_ANSWER)
  }
}
