import type { FastifyInstance } from 'fastify'
import { AuditQuery, auditView, encodeCursor, toAuditFilter } from '../audit/query.ts'
import type { CoreParts } from '../context.ts'
import type { Guard } from '../http/guard.ts'
import { parseOr400 } from '../http/validate.ts'
import { json, type RouteDoc } from '../http/route-doc.ts'

/**
 * `GET /audit` (issue 22 item 3; `read`): the audit log, newest first, a page at a time. No route
 * changes or deletes a row; only housekeeping prunes rows past `--audit-retention-days`.
 */
export function registerAuditRoutes(app: FastifyInstance, ctx: CoreParts, guard: Guard): void {
  app.get('/audit', { onRequest: guard('api_key') }, async (request) => {
    const query = parseOr400(AuditQuery, request.query ?? {}, 'query')
    const page = await ctx.store.queryAudit(toAuditFilter(query))
    return { data: page.entries.map(auditView), next_cursor: page.next && encodeCursor(page.next) }
  })
}

/** These routes as OpenAPI documents them and the access table decides them (http/route-doc.ts). */
export const AUDIT_DOCS: readonly RouteDoc[] = [
  {
    method: 'get',
    path: '/audit',
    summary: 'The audit log, newest first: one row per change, paged with `cursor` / `next_cursor`',
    tag: 'operators',
    access: 'api_key',
    scope: 'read',
    query: AuditQuery,
    ok: json('`{data: [rows], next_cursor}`'),
    errors: ['invalid_request'],
  },
]
