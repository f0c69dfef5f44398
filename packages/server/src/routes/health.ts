import type { FastifyInstance } from 'fastify'
import type { AccountingParts } from '../context.ts'
import { json, type RouteDoc } from '../http/route-doc.ts'

/** How long readiness waits for the store before calling it unreachable. */
const STORE_CHECK_TIMEOUT_MS = 1000

/**
 * What load balancers ask. `/healthz`: the process answers (restart it if not). `/readyz`: send it
 * traffic: the store answers, Redis is connected (when configured), speech is warm, and it is not
 * draining; otherwise 503 with the failing checks named. In gateway mode the body also says the
 * upstream circuit's state (`checks.upstream`), which never makes the instance unready. Neither needs a credential nor says more.
 */
export interface HealthOptions {
  /** Gateway mode: the upstream circuit's state, for `checks.upstream`. */
  upstreamState?: () => Promise<string>
}

export function registerHealthRoutes(app: FastifyInstance, ctx: AccountingParts, options: HealthOptions = {}): void {
  app.get('/healthz', async (_request, reply) => {
    reply.header('cache-control', 'no-store')
    return { ok: true }
  })
  app.get('/readyz', async (_request, reply) => {
    const checks = {
      store: (await storeAnswers(ctx)) ? 'ok' : 'unreachable',
      redis: ctx.shared.redis === undefined ? 'not_configured' : ctx.shared.redis.ready ? 'ok' : 'unreachable',
      speech: 'ok',
      draining: ctx.streams.draining,
    }
    // Reported, never a reason to be unready: an upstream outage must not pull every instance out of
    // its load balancer (and with --fallback they still speak).
    const upstream = options.upstreamState && (await options.upstreamState())
    const ready = checks.store === 'ok' && checks.redis !== 'unreachable' && !checks.draining
    reply.header('cache-control', 'no-store').code(ready ? 200 : 503)
    return { ready, checks: { ...checks, ...(upstream && { upstream }) } }
  })
}

async function storeAnswers(ctx: AccountingParts): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  try {
    await Promise.race([
      ctx.store.version(),
      new Promise((_, reject) => {
        timer = setTimeout(reject, STORE_CHECK_TIMEOUT_MS)
      }),
    ])
    return true
  } catch {
    return false
  } finally {
    clearTimeout(timer)
  }
}

/** These routes as OpenAPI documents them and the access table decides them (http/route-doc.ts). */
export const HEALTH_DOCS: readonly RouteDoc[] = [
  {
    method: 'get',
    path: '/healthz',
    summary: 'Liveness',
    tag: 'status',
    access: 'none',
    ok: json('`{ok: true}`', { ok: { type: 'boolean' } }),
    errors: [],
  },
  {
    method: 'get',
    path: '/readyz',
    summary: 'Readiness: store, Redis, draining (503 when not ready)',
    tag: 'status',
    access: 'none',
    ok: json('`{ready, checks}`'),
    errors: [],
  },
]
