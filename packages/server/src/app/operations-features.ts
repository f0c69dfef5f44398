import type { AppContext } from './app-context.ts'
import type { Feature } from './feature.ts'
import { ACCESS_TOKEN_DOCS, registerAccessTokenRoutes } from '../routes/access-token.ts'
import { API_KEY_DOCS, registerApiKeyRoutes } from '../routes/api-keys.ts'
import { AUDIT_DOCS, registerAuditRoutes } from '../routes/audit.ts'
import { HEALTH_DOCS, registerHealthRoutes } from '../routes/health.ts'
import { QUOTA_DOCS, registerQuotaRoutes } from '../routes/quotas.ts'
import { registerStatusRoutes, STATUS_DOCS } from '../routes/status.ts'
import { registerUsageRoutes, USAGE_DOCS } from '../routes/usage.ts'
import { registerWebhookRoutes, WEBHOOK_DOCS } from '../routes/webhooks.ts'
import { loadConsoleAssets, registerConsoleAssets } from '../console/assets.ts'
import { CONSOLE_DOCS } from '../console/docs.ts'
import { registerConsoleRoutes } from '../console/routes.ts'

/** `/` and the signing keys (JWKS): no credential. */
export function statusFeature(ctx: AppContext): Feature {
  return { name: 'status', routes: (app) => registerStatusRoutes(app, ctx), docs: STATUS_DOCS }
}

/** Liveness and readiness; in gateway mode readiness reports the upstream circuit's state too. */
export function healthFeature(ctx: AppContext): Feature {
  const circuit = ctx.circuit
  const options = circuit && { upstreamState: () => circuit.state() }
  return { name: 'health', routes: (app) => registerHealthRoutes(app, ctx, options), docs: HEALTH_DOCS }
}

/** Minting, revoking and describing access tokens. */
export function accessTokenFeature(ctx: AppContext): Feature {
  return {
    name: 'access tokens',
    routes: (app, guard) => registerAccessTokenRoutes(app, ctx, guard),
    docs: ACCESS_TOKEN_DOCS,
  }
}

/**
 * What operators use: the usage report, quotas, API keys, the audit log and webhooks, one feature
 * each.
 */
export function operatorFeatures(ctx: AppContext): Feature[] {
  return [
    { name: 'usage', routes: (app, guard) => registerUsageRoutes(app, ctx, guard), docs: USAGE_DOCS },
    { name: 'quotas', routes: (app, guard) => registerQuotaRoutes(app, ctx, guard), docs: QUOTA_DOCS },
    { name: 'api keys', routes: (app, guard) => registerApiKeyRoutes(app, ctx, guard), docs: API_KEY_DOCS },
    { name: 'audit', routes: (app, guard) => registerAuditRoutes(app, ctx, guard), docs: AUDIT_DOCS },
    { name: 'webhooks', routes: (app, guard) => registerWebhookRoutes(app, ctx, guard), docs: WEBHOOK_DOCS },
  ]
}

/** The operator console's files and its own API, with `--console` only: none without it. */
export function consoleFeatures(ctx: AppContext): Feature[] {
  const { console: sessions, streamCounts } = ctx
  if (!sessions || !streamCounts) return []
  const routes: Feature['routes'] = (app, guard) => {
    registerConsoleAssets(app, loadConsoleAssets())
    registerConsoleRoutes(app, ctx, guard, { sessions, streamCounts })
  }
  return [{ name: 'console', routes, docs: CONSOLE_DOCS }]
}
