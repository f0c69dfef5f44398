/**
 * The audit log (issue 22 item 3): one append-only row per change, written by the store in the same
 * transaction as the change it records, so there is never a change without its row or a row without
 * its change. A row never holds a secret, a token or a transcript: ids, names and settings only.
 *
 * To record a new kind of change: add its name to AUDIT_ACTIONS, give the store method that makes the
 * change an `audit?: AuditDraft` parameter, and append the draft inside that method's transaction
 * (SQLite: `SqliteContext.trail` within the change's `db.transaction`; PostgreSQL: `writeTrail` with the
 * query of the change's `PgContext.transaction`).
 */

/** Every action the log knows; a new change appends its name here (`area.verb`). */
export const AUDIT_ACTIONS = [
  'api_key.created',
  'api_key.updated',
  'api_key.rotated',
  'api_key.revoked',
  'api_key.expired_used',
  'quota.set',
  'quota.removed',
  'token.revoked',
  'subject.revoked',
  'webhook.created',
  'webhook.removed',
  'signing_key.rotated',
  'console.signed_in',
] as const

export type AuditAction = (typeof AUDIT_ACTIONS)[number]

export const isAuditAction = (value: string): value is AuditAction => AUDIT_ACTIONS.includes(value as AuditAction)

/** Who made the change: an API key over HTTP, the CLI against the store, or an operator console session. */
export interface AuditActor {
  type: 'api_key' | 'cli' | 'console'
  /** The acting API key (for `api_key`), or the key a console session signed in with (none for a one-time link). */
  keyId?: string | undefined
}

/** What the change was made to: `api_key`, `quota`, `token` (a jti), `subject` (a sub), `webhook`, `signing_key`, … */
export interface AuditTarget {
  type: string
  id: string
}

/** Where a change comes from: the same for every change one request or CLI command makes. */
export interface AuditOrigin {
  actor: AuditActor
  /** The HTTP request's id (its `x-request-id`), or one made up for a CLI command. */
  requestId: string
  ip?: string | undefined
}

/** A row as a change hands it to the store; the store gives it its id and position. */
export interface AuditDraft extends AuditOrigin {
  at: number
  action: AuditAction
  target: AuditTarget
  /** What changed, in JSON: names, scopes, caps, times. Never a secret, a token or a transcript. */
  details: Record<string, unknown>
}

export interface AuditEntry extends AuditDraft {
  id: string
}

/** A position in the log, newest first: rows before it are (at, seq) lower. */
export interface AuditCursor {
  at: number
  seq: number
}

export interface AuditFilter {
  /** Inclusive bounds on `at`, epoch ms. */
  fromMs?: number | undefined
  toMs?: number | undefined
  action?: string | undefined
  /** The acting key. */
  actorKeyId?: string | undefined
  targetId?: string | undefined
  limit: number
  /** Rows strictly after this position (the previous page's last row). */
  after?: AuditCursor | undefined
}

/**
 * One page, newest first. The order is (at, seq) descending and a cursor is the last row's position,
 * so rows written while someone pages (they are newer) never shift, repeat or hide the rows after it.
 */
export interface AuditPage {
  entries: AuditEntry[]
  /** The position to continue from; null on the last page. */
  next: AuditCursor | null
}

/** Appends a row only when no row under `key` was appended within `withinMs` (across every instance). */
export interface AuditOnce {
  key: string
  withinMs: number
}

/** A draft from a change's origin and what it did. */
export function auditDraft(
  origin: AuditOrigin,
  change: { at: number; action: AuditAction; target: AuditTarget; details?: Record<string, unknown> },
): AuditDraft {
  return {
    actor: origin.actor,
    requestId: origin.requestId,
    ...(origin.ip !== undefined && { ip: origin.ip }),
    at: change.at,
    action: change.action,
    target: change.target,
    details: change.details ?? {},
  }
}

/**
 * The audit log: append-only (no call changes a row; both stores refuse an UPDATE), newest first.
 * Rows of changes are written by the change's own method (its `audit` or trail); these calls append
 * rows that record no change of their own, read and prune. None moves the version.
 */
export interface AuditStore {
  /**
   * Appends a row that records no change of its own (an expired key tried); with `once`, only when no
   * row under `once.key` was appended within `once.withinMs`, across every instance (racing callers:
   * one appends). True when appended.
   */
  appendAudit(draft: AuditDraft, once?: AuditOnce): Promise<boolean>
  /** A page of the audit log, newest first (AuditPage); bounds on `at` are inclusive. */
  queryAudit(filter: AuditFilter): Promise<AuditPage>
  /** Drops audit rows written before `beforeMs` (housekeeping); returns how many. */
  pruneAudit(beforeMs: number): Promise<number>
}
