import { randomBytes } from 'node:crypto'
import type { AuditCursor, AuditDraft, AuditEntry } from './audit-types.ts'

/** An audit row as both stores keep it (PostgreSQL returns BIGINTs as text, JSONB parsed). */
export interface AuditRow {
  seq: number | string
  id: string
  at: number | string
  action: string
  actor_type: AuditEntry['actor']['type']
  actor_key_id: string | null
  target_type: string
  target_id: string
  request_id: string
  ip: string | null
  details: string | Record<string, unknown>
}

export const newAuditId = (): string => `aud_${randomBytes(12).toString('base64url')}`

/** The columns of a draft, in the order both stores insert them. */
export const auditColumns = (d: AuditDraft, id: string) => [
  id,
  d.at,
  d.action,
  d.actor.type,
  d.actor.keyId ?? null,
  d.target.type,
  d.target.id,
  d.requestId,
  d.ip ?? null,
  JSON.stringify(d.details),
]

export const AUDIT_INSERT_COLUMNS =
  'id, at, action, actor_type, actor_key_id, target_type, target_id, request_id, ip, details'

export const toAuditEntry = (r: AuditRow): AuditEntry => ({
  id: r.id,
  at: Number(r.at),
  action: r.action as AuditEntry['action'],
  actor: { type: r.actor_type, ...(r.actor_key_id !== null && { keyId: r.actor_key_id }) },
  target: { type: r.target_type, id: r.target_id },
  requestId: r.request_id,
  ...(r.ip !== null && { ip: r.ip }),
  details: typeof r.details === 'string' ? JSON.parse(r.details) : r.details,
})

export const cursorOf = (r: AuditRow): AuditCursor => ({ at: Number(r.at), seq: Number(r.seq) })
