import { createHash, randomBytes } from 'node:crypto'
import { VoxgateError } from '@voxgate/protocol'
import type { Authenticator } from './authenticator.ts'
import { looksLikeJwt } from './api-keys.ts'
import type { ApiKeyPrincipal, ConsoleSessionOf } from './principal.ts'
import type { Scope } from '../scopes.ts'
import type { Clock } from '../clock.ts'
import type { ConsoleSessionRecord, Store } from '../store/types.ts'
import { auditDraft, type AuditOrigin } from '../store/audit-types.ts'

/**
 * Console sign-in attempts (a link's code or a key typed in) one client address may make per minute,
 * as any sign-in form is throttled; counted where the other rate limits are (Redis, else the store).
 */
export const CONSOLE_SIGN_IN_PER_MINUTE = 10

/** A one-time sign-in link (`voxgate console-link`) is valid this long. */
export const CONSOLE_LINK_TTL_MS = 5 * 60_000
/** A console session ends this long after sign-in, however busy (absolute). */
export const CONSOLE_SESSION_MAX_MS = 8 * 3_600_000
/** …and once unused this long (sliding: each request starts it again). */
export const CONSOLE_SESSION_IDLE_MS = 30 * 60_000
/** The session cookie: `__Host-` binds it to this host, Secure, `Path=/`, no Domain. */
export const CONSOLE_COOKIE = '__Host-voxgate-console'
/**
 * Whose tokens the Playground mints in a session started by a link (no key signed in): this name is
 * their `key_id` in the usage ledger. Such tokens live at most `TOKEN_TTL_MAX_SECONDS`.
 */
export const CONSOLE_LINK_KEY_ID = 'console'

const digest = (secret: string): string => createHash('sha256').update(secret).digest('hex')

/**
 * How the audit log names a session: the start of its id's digest, never the id (the cookie's
 * secret). The store holds the whole digest already, so the name gives nothing away.
 */
export const sessionRef = (sessionHash: string): string => `cs_${sessionHash.slice(0, 16)}`

/** Where a sign-in comes from: the request's id and the caller's address, for its audit row. */
export type SignInOrigin = Omit<AuditOrigin, 'actor'>
const ended = () => new VoxgateError('invalid_credentials', 'The console session has ended; sign in again.')

/** The `Set-Cookie` value that starts a session (its id) or, with no id, ends it in this browser. */
export function sessionCookie(id: string | undefined): string {
  const life = id === undefined ? 0 : Math.floor(CONSOLE_SESSION_MAX_MS / 1000)
  return `${CONSOLE_COOKIE}=${id ?? ''}; Path=/; Max-Age=${life}; Secure; HttpOnly; SameSite=Strict`
}

/**
 * Operator console sessions (docs/console.md), kept in the store so that every instance knows them
 * and a sign-out ends one everywhere at once. Only digests of codes and session ids are stored.
 */
export class ConsoleSessions {
  constructor(
    private readonly store: Store,
    private readonly authenticator: Authenticator,
    private readonly clock: Clock,
  ) {}

  /** A one-time code for `<url>/console/login#code=…`, valid `CONSOLE_LINK_TTL_MS`, starting an `admin` session. */
  static async createLoginCode(store: Store, nowMs: number): Promise<string> {
    const code = randomBytes(32).toString('base64url')
    await store.addConsoleLoginCode(digest(code), nowMs + CONSOLE_LINK_TTL_MS)
    return code
  }

  /** Signs in with a one-time code; the code is gone whatever the outcome. Returns the session id. */
  async signInWithCode(code: string, origin: SignInOrigin): Promise<{ id: string; scope: Scope }> {
    const now = this.clock.now()
    if (!(await this.store.takeConsoleLoginCode(digest(code), now)))
      throw new VoxgateError('invalid_credentials', 'This sign-in link is not valid: it expired or was used already.')
    return { id: await this.#start({ keyId: null, scope: 'admin', now, origin }), scope: 'admin' }
  }

  /** Signs in with an `admin` or `read` API key; any other key is 403 `insufficient_scope`. */
  async signInWithKey(key: string, origin: SignInOrigin): Promise<{ id: string; scope: Scope; keyId: string }> {
    if (looksLikeJwt(key))
      throw new VoxgateError('api_key_required', 'Sign in to the console with an API key, not an access token.')
    const principal = await this.authenticator.authenticate(key)
    if (principal.kind !== 'api_key') throw new VoxgateError('api_key_required', 'Sign in with an API key.')
    const scope = consoleScope(principal.scopes)
    if (!scope)
      throw new VoxgateError('insufficient_scope', 'The console needs an API key with the "admin" or "read" scope.')
    const id = await this.#start({ keyId: principal.keyId, scope, now: this.clock.now(), origin })
    return { id, scope, keyId: principal.keyId }
  }

  /** Stores a new session with its `console.signed_in` row (one transaction); returns the session id. */
  async #start(s: {
    keyId: string | null
    scope: 'admin' | 'read'
    now: number
    origin: SignInOrigin
  }): Promise<string> {
    const id = randomBytes(32).toString('base64url')
    const idHash = digest(id)
    const actor = { type: 'console' as const, ...(s.keyId !== null && { keyId: s.keyId }) }
    await this.store.createConsoleSession(
      {
        idHash,
        keyId: s.keyId,
        scope: s.scope,
        createdAt: s.now,
        lastSeenAt: s.now,
        expiresAt: s.now + CONSOLE_SESSION_MAX_MS,
      },
      auditDraft(
        { ...s.origin, actor },
        {
          at: s.now,
          action: 'console.signed_in',
          target: { type: 'console_session', id: sessionRef(idHash) },
          details: { scope: s.scope, method: s.keyId === null ? 'link' : 'key' },
        },
      ),
    )
    return id
  }

  /**
   * The principal of a session cookie, read from the store at every request (so a sign-out or a
   * revoked key ends it on every instance at once), and its idle clock restarted. A session signed in
   * with a key holds that key's power as it is now: revoked, expired or down-scoped below `read`, it ends.
   */
  async principal(id: string): Promise<ApiKeyPrincipal & { console: ConsoleSessionOf }> {
    const now = this.clock.now()
    const sessionHash = digest(id)
    const session = await this.store.getConsoleSession(sessionHash)
    if (!session || !live(session, now)) {
      if (session) await this.store.endConsoleSession(sessionHash)
      throw ended()
    }
    let scopes: Scope[] = [session.scope]
    let policy: ApiKeyPrincipal['policy'] = null
    if (session.keyId !== null) {
      const key = await this.store.getApiKey(session.keyId)
      const scope = key && consoleScope(key.scopes)
      if (!key || key.revokedAt !== null || (key.expiresAt !== null && key.expiresAt <= now) || !scope) {
        await this.store.endConsoleSession(sessionHash)
        throw ended()
      }
      scopes = [scope]
      policy = key.policy
    }
    await this.store.touchConsoleSession(sessionHash, now)
    return {
      kind: 'api_key',
      keyId: session.keyId ?? CONSOLE_LINK_KEY_ID,
      scopes,
      policy,
      console: { sessionHash, keyId: session.keyId },
    }
  }

  /** Ends a session everywhere. */
  async end(sessionHash: string): Promise<void> {
    await this.store.endConsoleSession(sessionHash)
  }

  /** When the session ends if unused (idle) and at the latest (absolute), epoch ms. */
  async deadlines(sessionHash: string): Promise<{ idleAt: number; expiresAt: number } | undefined> {
    const s = await this.store.getConsoleSession(sessionHash)
    return s && { idleAt: s.lastSeenAt + CONSOLE_SESSION_IDLE_MS, expiresAt: s.expiresAt }
  }
}

const live = (s: ConsoleSessionRecord, now: number): boolean =>
  s.expiresAt > now && now - s.lastSeenAt < CONSOLE_SESSION_IDLE_MS

/** The console power a key's scopes give: `admin`, `read`, or none. */
function consoleScope(scopes: readonly Scope[]): 'admin' | 'read' | undefined {
  return scopes.includes('admin') ? 'admin' : scopes.includes('read') ? 'read' : undefined
}

/**
 * The routes where the session cookie stands in for a key: the ones the console calls, and nothing
 * else (no speech route, no `GET /access-token/self`). Route templates as Fastify registers them.
 */
export function acceptsConsoleSession(template: string): boolean {
  return (
    ['/api-keys', '/usage', '/quotas', '/audit', '/webhooks', '/access-token', '/access-token/revoke'].includes(
      template,
    ) ||
    ['/api-keys/', '/quotas/', '/audit/', '/webhooks/', '/console/api/'].some((prefix) => template.startsWith(prefix))
  )
}
