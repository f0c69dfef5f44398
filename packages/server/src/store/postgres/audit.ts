import { AUDIT_INSERT_COLUMNS, auditColumns, cursorOf, newAuditId, toAuditEntry, type AuditRow } from '../audit-row.ts'
import type { AuditDraft, AuditFilter, AuditOnce, AuditPage, AuditStore } from '../audit-types.ts'
import type { PgQuery } from './connection.ts'

/** The row's insert; its ten parameters come first (`auditColumns`), so a statement may add its own after them. */
export const AUDIT_INSERT = `INSERT INTO audit_log (${AUDIT_INSERT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb)`

/** Appends one row; pass the client of the change's transaction so both commit or neither does. */
export async function appendAudit(query: PgQuery, draft: AuditDraft): Promise<void> {
  await query(AUDIT_INSERT, auditColumns(draft, newAuditId()))
}

/**
 * As `appendAudit`, unless a row under `once.key` was appended within `once.withinMs`. One statement:
 * the upsert's row lock makes instances trying at once queue, and only the one that moved the
 * marker appends.
 */
export async function appendAuditOnce(query: PgQuery, draft: AuditDraft, once: AuditOnce): Promise<boolean> {
  const { rows } = await query<{ n: number }>(
    `WITH mark AS (
      INSERT INTO audit_once AS o (key, at) VALUES ($11, $2) ON CONFLICT (key) DO UPDATE SET at = EXCLUDED.at
        WHERE EXCLUDED.at - o.at >= $12 RETURNING 1),
    row AS (INSERT INTO audit_log (${AUDIT_INSERT_COLUMNS})
      SELECT $1, $2::bigint, $3, $4, $5, $6, $7, $8, $9, $10::jsonb WHERE EXISTS (SELECT 1 FROM mark) RETURNING 1)
    SELECT count(*)::int AS n FROM row`,
    [...auditColumns(draft, newAuditId()), once.key, once.withinMs],
  )
  return rows[0]!.n === 1
}

export async function queryAudit(query: PgQuery, f: AuditFilter): Promise<AuditPage> {
  const { rows } = await query<AuditRow>(
    `SELECT * FROM audit_log
     WHERE ($1::bigint IS NULL OR at >= $1) AND ($2::bigint IS NULL OR at <= $2) AND ($3::text IS NULL OR action = $3)
       AND ($4::text IS NULL OR actor_key_id = $4) AND ($5::text IS NULL OR target_id = $5)
       AND ($6::bigint IS NULL OR (at, seq) < ($6, $7::bigint))
     ORDER BY at DESC, seq DESC LIMIT $8`,
    [
      f.fromMs ?? null,
      f.toMs ?? null,
      f.action ?? null,
      f.actorKeyId ?? null,
      f.targetId ?? null,
      f.after?.at ?? null,
      f.after?.seq ?? null,
      f.limit + 1,
    ],
  )
  const shown = rows.slice(0, f.limit)
  return { entries: shown.map(toAuditEntry), next: rows.length > f.limit ? cursorOf(shown[shown.length - 1]!) : null }
}

export async function pruneAudit(query: PgQuery, beforeMs: number): Promise<number> {
  const { rows } = await query<{ n: number }>(
    `WITH once AS (DELETE FROM audit_once WHERE at < $1 RETURNING 1),
    gone AS (DELETE FROM audit_log WHERE at < $1 RETURNING 1)
    SELECT count(*)::int AS n FROM gone`,
    [beforeMs],
  )
  return rows[0]!.n
}

/** The audit log's calls (audit-types.ts states the contract). */
export const pgAuditStore = (query: PgQuery): AuditStore => ({
  async appendAudit(draft, once) {
    if (once) return appendAuditOnce(query, draft, once)
    await appendAudit(query, draft)
    return true
  },
  queryAudit: (filter) => queryAudit(query, filter),
  pruneAudit: (beforeMs) => pruneAudit(query, beforeMs),
})
