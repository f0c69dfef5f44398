import type { IncomingMessage } from 'node:http'
import { VoxgateError } from '@voxgate/protocol'
import type { CredentialOrigin } from '../auth/authenticator.ts'
import { authorize, type Requirement } from '../auth/authorize.ts'
import { extractCredential, readCookie } from '../auth/credentials.ts'
import type { Principal } from '../auth/principal.ts'
import type { ServerContext } from '../context.ts'
import { acceptsConsoleSession, CONSOLE_COOKIE } from '../auth/console-sessions.ts'
import { checkOrigin } from './origin.ts'
import type { RouteAccess } from '../scopes.ts'

/** A WebSocket handshake's request id and its route's access decision, as the router hands them over. */
export interface HandshakeRoute {
  id: string
  access: RouteAccess
}

/**
 * The whole credential check of a request, shared by HTTP routes and the WebSocket upgrade:
 * extract → authenticate → authorize → origin. Throws a coded 400/401/403. Each outcome is counted.
 */
export async function authenticateRequest(
  ctx: ServerContext,
  req: IncomingMessage,
  query: URLSearchParams,
  requirement: Requirement,
  websocket: boolean,
  request: {
    /** The route's template (`/voices/:id`); absent: the request's path (WebSocket upgrades have no params). */
    route?: string
    /** The request's id, for the audit row of an expired key's use. */
    id: string
    /** The route's access decision (http/scopes.ts), which an API key is checked against. */
    access: RouteAccess
  },
): Promise<Principal> {
  try {
    const template = request.route ?? (req.url ?? '').split('?')[0]!
    const { access } = request
    const origin = { requestId: request.id, ip: req.socket.remoteAddress }
    const principal = await checkCredential(ctx, req, query, { requirement, access, origin, template }, websocket)
    ctx.metrics.credentialChecked('ok')
    return principal
  } catch (err) {
    ctx.metrics.credentialChecked(err instanceof VoxgateError ? err.code : 'internal_error')
    throw err
  }
}

async function checkCredential(
  ctx: ServerContext,
  req: IncomingMessage,
  query: URLSearchParams,
  {
    requirement,
    access,
    origin,
    template,
  }: { requirement: Requirement; access: RouteAccess; origin: CredentialOrigin; template: string },
  websocket: boolean,
): Promise<Principal> {
  const credential = extractCredential({ headers: req.headers, query, websocket }, ctx.config.tokenCookieName)
  // The console's session cookie stands in for a key on the console's routes only, when nothing else is sent.
  const session =
    !credential && !websocket && ctx.console && acceptsConsoleSession(template)
      ? readCookie(req.headers.cookie, CONSOLE_COOKIE)
      : undefined
  if (session !== undefined && ctx.console) {
    if (ctx.config.insecureHttpBehindProxy) checkForwardedHttps(req, ctx.config.trustedProxies)
    const principal = await ctx.console.principal(session)
    authorize(principal, requirement, access)
    checkConsoleOrigin(req, ctx.config.publicUrl)
    return principal
  }
  if (!credential)
    throw new VoxgateError('missing_credentials', 'Send an API key or access token as Authorization: Bearer.')
  if (ctx.config.insecureHttpBehindProxy) checkForwardedHttps(req, ctx.config.trustedProxies)
  const principal = await ctx.authenticator.authenticate(credential.value, origin)
  authorize(principal, requirement, access)
  try {
    checkOrigin(originOf(req), credential, principal, ctx.config.allowedOrigins, websocket)
  } catch (err) {
    // A verified credential used from the wrong origin for a stream: a refusal the ledger attributes.
    if (typeof requirement === 'object' && (requirement.grant === 'tts' || requirement.grant === 'stt'))
      ctx.refusals.record(principal, err)
    throw err
  }
  return principal
}

/** Methods that change nothing; every other one is a write, which a cookie may make only from the console's own origin. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

/**
 * The console's own origin: `--public-url`'s, else `https://` and the request's Host. A cookie rides
 * along with cross-site requests (SameSite=Strict aside), so a write with it must say it comes from
 * here; a write with no `Origin` at all is refused too.
 */
export function consoleOrigin(req: IncomingMessage, publicUrl: string | undefined): string {
  return publicUrl !== undefined ? new URL(publicUrl).origin : `https://${req.headers.host ?? ''}`
}

/** 403 `origin_not_allowed` unless a write comes from the console's own origin. */
export function checkConsoleOrigin(req: IncomingMessage, publicUrl: string | undefined): void {
  if (SAFE_METHODS.has(req.method ?? 'GET')) return
  const origin = originOf(req)
  if (origin === undefined || origin !== consoleOrigin(req, publicUrl))
    throw new VoxgateError('origin_not_allowed', "A console write must come from the console's own origin.")
}

/**
 * The Origin header as sent. `null` (sandboxed frames, file: pages, cross-origin redirects) is an
 * opaque origin, not an absent one: it is never on an allowlist, so every origin rule refuses it.
 */
export function originOf(req: IncomingMessage): string | undefined {
  const origin = req.headers.origin
  return typeof origin === 'string' ? origin : undefined
}

export function queryOf(url: string | undefined): URLSearchParams {
  const q = url?.indexOf('?') ?? -1
  return new URLSearchParams(q >= 0 && url ? url.slice(q + 1) : '')
}

/**
 * In plain-HTTP mode a credential may only arrive through a trusted proxy that says the client spoke
 * HTTPS to it; anything else means the credential crossed a network in clear text.
 */
function checkForwardedHttps(req: IncomingMessage, trustedProxies: readonly string[]): void {
  if (!viaTrustedHttpsProxy(req, trustedProxies)) {
    throw new VoxgateError(
      'insecure_transport',
      'Credentials are accepted only over HTTPS; this request did not come through a trusted TLS proxy.',
    )
  }
}

/** Whether a trusted proxy says the client spoke HTTPS to it (the first hop of `X-Forwarded-Proto`). */
export function viaTrustedHttpsProxy(req: IncomingMessage, trustedProxies: readonly string[]): boolean {
  const proto = req.headers['x-forwarded-proto']
  const first = (Array.isArray(proto) ? proto[0] : proto)?.split(',')[0]?.trim().toLowerCase()
  return trustedProxies.includes(req.socket.remoteAddress ?? '') && first === 'https'
}
