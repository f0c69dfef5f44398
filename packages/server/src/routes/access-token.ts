import type { FastifyInstance, FastifyRequest } from 'fastify'
import { z } from 'zod'
import {
  CREDENTIAL_MAX_CHARS,
  SUB_MAX_CHARS,
  TOKEN_TTL_DEFAULT_SECONDS,
  TOKEN_TTL_MAX_SECONDS,
  VoxgateError,
} from '@voxgate/protocol'
import { AccessTokenRequest } from '@voxgate/protocol/schemas'
import { requireScope } from '../auth/authorize.ts'
import { checkMintPolicy } from '../auth/key-policy.ts'
import type { ApiKeyPrincipal } from '../auth/principal.ts'
import type { SttContext } from '../stt/service.ts'
import { principalOf, type Guard } from '../http/guard.ts'
import { parseOr400 } from '../http/validate.ts'
import { requestOrigin } from '../audit/origin.ts'
import { REVOKE_REASON_MAX_CHARS } from '../audit/reason.ts'
import { auditDraft, type AuditDraft, type AuditOrigin } from '../store/audit-types.ts'
import type { Revocation } from '../store/types.ts'
import { json, type RouteDoc } from '../http/route-doc.ts'

/** Why, in the operator's words: kept in the audit row's `details`, never checked. */
const reason = z.string().trim().min(1).max(REVOKE_REASON_MAX_CHARS).optional()

/**
 * What a revocation names: one token, one token id, or every token of an end-user issued before a
 * time; each with an optional `reason` for the audit log.
 */
export const RevokeRequest = z.union([
  z.strictObject({ token: z.string().min(1).max(CREDENTIAL_MAX_CHARS), reason }),
  z.strictObject({ jti: z.string().min(1).max(128), reason }),
  z.strictObject({
    sub: z.string().min(1).max(SUB_MAX_CHARS),
    issued_before: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe(
        "Unix seconds, exclusive: the sub's tokens with an earlier `iat` are revoked. Omitted: every token issued until now by the server's clock, the current second included.",
      ),
    reason,
  }),
])

export function registerAccessTokenRoutes(app: FastifyInstance, ctx: SttContext, guard: Guard): void {
  app.post('/access-token', { onRequest: guard('api_key') }, async (request, reply) => {
    const body = parseOr400(AccessTokenRequest, request.body ?? {})
    const caller = apiKeyOf(request)
    // Omitted grants mean the one grant the seed documents, so `create({expires_in})` is usable.
    const ask = { grants: body.grants ?? { tts: true }, ttlSeconds: body.expires_in ?? TOKEN_TTL_DEFAULT_SECONDS }
    checkMintPolicy(caller.policy, { ...ask, limits: body.limits })
    await ctx.rateLimiter.take('mint', caller.keyId)
    const { token } = await ctx.tokens.mint({ keyId: caller.keyId, ...ask, sub: body.sub, limits: body.limits })
    ctx.metrics.tokenMinted()
    // A token is three base64url parts joined by dots: nothing in it needs escaping, so the answer is
    // written as it is (the bytes JSON.stringify would give) instead of JSON.stringify scanning its
    // several hundred characters one by one.
    reply.type('application/json; charset=utf-8')
    return `{"token":"${token}"}`
  })

  app.post('/access-token/revoke', { onRequest: guard('api_key') }, async (request) => {
    const body = parseOr400(RevokeRequest, request.body ?? {})
    // `sub` alone means every token of that end-user issued until now, by this server's clock: the cutoff
    // is exclusive and `iat` whole seconds, so it is the next second (a token minted later in this same
    // second is refused too; one minted in it before the request would otherwise survive). The console
    // sends `sub` alone, so an operator's browser clock cannot move the cutoff.
    const issuedBefore = 'sub' in body ? (body.issued_before ?? Math.floor(ctx.clock.now() / 1000) + 1) : 0
    // No token outlives its maximum lifetime, so neither need its revocation; a cutoff in the future
    // covers tokens issued up to then, so it must last that much longer.
    const from = Math.max(ctx.clock.now(), issuedBefore * 1000)
    const expiresAt = from + (TOKEN_TTL_MAX_SECONDS + ctx.config.clockToleranceSeconds) * 1000
    const caller = apiKeyOf(request)
    // A bare jti names no key, so only `admin` may revoke by it (or by `sub`, every key's tokens).
    if (!('token' in body)) requireScope(caller.scopes, 'admin', `Revoking by ${'jti' in body ? 'jti' : 'sub'}`)
    const revocation: Revocation =
      'token' in body
        ? { kind: 'jti', jti: (await ownTokenOr403(ctx, caller, body.token)).jti, expiresAt }
        : 'jti' in body
          ? { kind: 'jti', jti: body.jti, expiresAt }
          : { kind: 'sub', sub: body.sub, issuedBefore, expiresAt }
    const audit = revocationAudit(revocation, {
      origin: requestOrigin(request),
      at: ctx.clock.now(),
      reason: body.reason,
    })
    await ctx.store.addRevocation(revocation, audit)
    ctx.revocations.add(revocation)
    ctx.streams.sweep()
    ctx.shared.revocationBus?.publish(revocation)
    ctx.metrics.revoked(revocation.kind)
    return { revoked: true }
  })

  app.get('/access-token/self', { onRequest: guard('any') }, async (request) => {
    const p = principalOf(request)
    if (p.kind !== 'token')
      throw new VoxgateError('invalid_request', 'This route describes an access token; call it with one.')
    return {
      grants: p.grants,
      issued_at: p.issuedAtSeconds,
      expires_at: p.expiresAtSeconds,
      sub: p.sub ?? null,
      limits: p.limits ?? null,
      usage: {
        characters: await ctx.budgets.used(p.jti),
        audio_seconds: roundSeconds(await ctx.stt.usage.used(p.jti)),
        open_streams: await ctx.streams.openStreams(p),
      },
    }
  })
}

/** The route table lets only API keys here; this narrows the type for the route. */
function apiKeyOf(request: FastifyRequest): ApiKeyPrincipal {
  const p = principalOf(request)
  if (p.kind !== 'api_key') throw new VoxgateError('api_key_required', 'This route needs an API key.')
  return p
}

/** A `mint` key revokes the tokens it minted; another key's token needs `admin`. */
async function ownTokenOr403(ctx: SttContext, caller: ApiKeyPrincipal, token: string) {
  const target = await inspectOr400(ctx, token)
  if (target.keyId !== caller.keyId) requireScope(caller.scopes, 'admin', "Revoking another API key's token")
  return target
}

/** The token to revoke is data, not the caller's credential: a bad one is a 400, not a 401. */
async function inspectOr400(ctx: SttContext, token: string) {
  try {
    return await ctx.tokens.inspect(token)
  } catch {
    throw new VoxgateError(
      'invalid_request',
      'Invalid request body: token is not an access token issued by this server.',
    )
  }
}

/** Audio seconds to the millisecond. */
const roundSeconds = (s: number): number => Math.round(s * 1000) / 1000

/** `token.revoked` names the token by its id (never the token itself); `subject.revoked` names the sub. */
function revocationAudit(
  r: Revocation,
  { origin, at, reason }: { origin: AuditOrigin; at: number; reason: string | undefined },
): AuditDraft {
  const why = reason === undefined ? {} : { reason }
  return r.kind === 'jti'
    ? auditDraft(origin, { at, action: 'token.revoked', target: { type: 'token', id: r.jti }, details: why })
    : auditDraft(origin, {
        at,
        action: 'subject.revoked',
        target: { type: 'subject', id: r.sub },
        details: { issued_before: r.issuedBefore, ...why },
      })
}

/** These routes as OpenAPI documents them and the access table decides them (http/route-doc.ts). */
export const ACCESS_TOKEN_DOCS: readonly RouteDoc[] = [
  {
    method: 'post',
    path: '/access-token',
    summary: 'Mint a short-lived access token',
    tag: 'access tokens',
    access: 'api_key',
    scope: 'mint',
    body: { schema: AccessTokenRequest, name: 'AccessTokenRequest' },
    ok: json('`{token}`', { token: { type: 'string' } }),
    errors: ['rate_limited', 'limits_unavailable', 'key_policy_exceeded'],
  },
  {
    method: 'post',
    path: '/access-token/revoke',
    summary: "Revoke a token, a token id, or an end-user's tokens",
    tag: 'access tokens',
    access: 'api_key',
    // A `mint` key revokes the tokens it minted; a `sub` or another key's token needs `admin` (the route checks).
    scope: 'mint',
    body: { schema: RevokeRequest, name: 'RevokeRequest' },
    ok: json('`{revoked: true}`', { revoked: { type: 'boolean' } }),
    errors: [],
  },
  {
    method: 'get',
    path: '/access-token/self',
    summary: "The calling token's grants, limits and usage",
    tag: 'access tokens',
    access: 'any',
    ok: json('Grants, times, sub, limits, usage'),
    errors: ['invalid_request'],
  },
]
