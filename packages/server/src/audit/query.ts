import { z } from 'zod'
import { AUDIT_ACTIONS, type AuditCursor, type AuditEntry, type AuditFilter } from '../store/audit-types.ts'

/** Most rows one page of `GET /audit` holds. */
export const AUDIT_PAGE_MAX = 1000
export const AUDIT_PAGE_DEFAULT = 100

const DAY_MS = 86_400_000
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/
const RFC3339 = z.iso.datetime({ offset: true })

/** An instant as RFC 3339 or a UTC date; a date-only `to` ends with its whole day. */
const instant = (end: boolean) =>
  z.string().transform((value, ctx) => {
    if (DATE_ONLY.test(value)) {
      const start = Date.parse(`${value}T00:00:00Z`)
      if (!Number.isNaN(start) && new Date(start).toISOString().startsWith(value))
        return end ? start + DAY_MS - 1 : start
    } else if (RFC3339.safeParse(value).success) return Date.parse(value)
    ctx.addIssue({ code: 'custom', message: 'must be RFC 3339 (2026-06-01T12:00:00Z) or a UTC date (2026-06-01)' })
    return z.NEVER
  })

/** A cursor is the last row's position, opaque to callers. */
export const encodeCursor = (c: AuditCursor): string => Buffer.from(`${c.at}.${c.seq}`).toString('base64url')

const cursor = z.string().transform((value, ctx) => {
  const m = /^(\d{1,16})\.(\d{1,19})$/.exec(Buffer.from(value, 'base64url').toString())
  if (m) return { at: Number(m[1]), seq: Number(m[2]) }
  ctx.addIssue({ code: 'custom', message: "is not a next_cursor of this API's" })
  return z.NEVER
})

const Id = z.string().min(1).max(200)

/** `GET /audit` and `voxgate audit`: the same parameters, validated the same way. */
export const AuditQuery = z
  .strictObject({
    from: instant(false).optional(),
    to: instant(true).optional(),
    action: z.enum(AUDIT_ACTIONS).optional(),
    key_id: Id.optional(),
    target_id: Id.optional(),
    limit: z.coerce.number().int().min(1).max(AUDIT_PAGE_MAX).default(AUDIT_PAGE_DEFAULT),
    cursor: cursor.optional(),
  })
  .refine((q) => q.from === undefined || q.to === undefined || q.from <= q.to, {
    message: 'must not be before from',
    path: ['to'],
  })

export const toAuditFilter = (q: z.output<typeof AuditQuery>): AuditFilter => ({
  fromMs: q.from,
  toMs: q.to,
  action: q.action,
  actorKeyId: q.key_id,
  targetId: q.target_id,
  limit: q.limit,
  after: q.cursor,
})

/** A row as the API shows it (snake_case, RFC 3339 times). */
export const auditView = (e: AuditEntry) => ({
  id: e.id,
  at: new Date(e.at).toISOString(),
  action: e.action,
  actor: { type: e.actor.type, ...(e.actor.keyId !== undefined && { key_id: e.actor.keyId }) },
  target: e.target,
  request_id: e.requestId,
  ...(e.ip !== undefined && { ip: e.ip }),
  details: e.details,
})
