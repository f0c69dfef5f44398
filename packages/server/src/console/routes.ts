import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { CREDENTIAL_MAX_CHARS, VoxgateError } from '@voxgate/protocol'
import { readCookie } from '../auth/credentials.ts'
import type { ServerContext } from '../context.ts'
import { checkConsoleOrigin } from '../http/authenticate.ts'
import { principalOf, type Guard } from '../http/guard.ts'
import { parseOr400 } from '../http/validate.ts'
import { CONSOLE_COOKIE, type ConsoleSessions, sessionCookie } from '../auth/console-sessions.ts'
import type { StreamCounts } from '../streams/stream-counts.ts'
import { CONSOLE_SIGN_IN_PER_MINUTE } from '../auth/console-sessions.ts'

/** How often the live-events route sends the open streams (the Overview updates within 2 s). */
const EVENTS_EVERY_MS = 1000

const SignIn = z.union([
  z.strictObject({ code: z.string().min(1).max(200) }),
  z.strictObject({ key: z.string().min(1).max(CREDENTIAL_MAX_CHARS) }),
])

/**
 * The console's own routes (docs/console.md): sign in with a one-time code or an `admin`/`read` key,
 * sign out, who is signed in, and the live open-streams feed. Everything else the console shows comes
 * from the same API routes any client calls.
 */
export function registerConsoleRoutes(
  app: FastifyInstance,
  ctx: ServerContext,
  guard: Guard,
  parts: { sessions: ConsoleSessions; streamCounts: StreamCounts },
): void {
  const { sessions, streamCounts } = parts
  app.post('/console/api/login', async (request, reply) => {
    // A sign-in is a write: from the console's page only (no login CSRF), and throttled per address.
    checkConsoleOrigin(request.raw, ctx.config.publicUrl)
    await throttle(ctx, request.ip)
    const body = parseOr400(SignIn, request.body ?? {})
    const origin = { requestId: request.id, ip: request.ip }
    const session =
      'code' in body ? await sessions.signInWithCode(body.code, origin) : await sessions.signInWithKey(body.key, origin)
    reply.header('set-cookie', sessionCookie(session.id)).header('cache-control', 'no-store')
    return { scope: session.scope, key_id: 'keyId' in session ? session.keyId : null }
  })

  app.post('/console/api/logout', async (request, reply) => {
    checkConsoleOrigin(request.raw, ctx.config.publicUrl)
    const id = readCookie(request.headers.cookie, CONSOLE_COOKIE)
    if (id !== undefined) {
      // Ended in the store: every instance refuses it from now on.
      const principal = await sessions.principal(id).catch(() => undefined)
      if (principal) await sessions.end(principal.console.sessionHash)
    }
    return reply.header('set-cookie', sessionCookie(undefined)).code(204).send()
  })

  app.get('/console/api/session', { onRequest: guard('api_key') }, async (request, reply) => {
    const p = principalOf(request)
    if (p.kind !== 'api_key') throw new VoxgateError('api_key_required', 'This route needs an API key.')
    const deadlines = p.console && (await sessions.deadlines(p.console.sessionHash))
    reply.header('cache-control', 'no-store')
    return {
      scope: p.scopes.includes('admin') ? 'admin' : 'read',
      key_id: p.console ? p.console.keyId : p.keyId,
      idle_at: deadlines ? new Date(deadlines.idleAt).toISOString() : null,
      expires_at: deadlines ? new Date(deadlines.expiresAt).toISOString() : null,
    }
  })

  app.get('/console/api/events', { onRequest: guard('api_key') }, async (request, reply) => {
    const p = principalOf(request)
    const cookie = p.kind === 'api_key' && p.console ? readCookie(request.headers.cookie, CONSOLE_COOKIE) : undefined
    reply.hijack()
    const res = reply.raw
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-request-id': request.id,
    })
    let closed = false
    const send = async () => {
      // A session signed out (here or on another instance) stops its feed at the next beat.
      if (
        cookie !== undefined &&
        !(await sessions.principal(cookie).then(
          () => true,
          () => false,
        ))
      ) {
        res.end('event: signed_out\ndata: {}\n\n')
        return stop()
      }
      const view = await streamCounts.read()
      if (!closed) res.write(`event: open_streams\ndata: ${JSON.stringify(view)}\n\n`)
    }
    const timer = setInterval(() => void send().catch(() => undefined), EVENTS_EVERY_MS)
    const stop = () => {
      closed = true
      clearInterval(timer)
    }
    res.on('close', stop)
    await send().catch(() => undefined)
  })
}

async function throttle(ctx: ServerContext, address: string): Promise<void> {
  try {
    await ctx.rateLimiter.take('console_sign_in', address)
  } catch (err) {
    if (!(err instanceof VoxgateError) || err.code !== 'rate_limited') throw err
    throw new VoxgateError(
      'rate_limited',
      `Too many console sign-in attempts from this address: ${CONSOLE_SIGN_IN_PER_MINUTE} per minute.`,
      err.headers,
    )
  }
}
