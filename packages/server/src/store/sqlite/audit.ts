import type Database from 'better-sqlite3'
import { AUDIT_INSERT_COLUMNS, auditColumns, cursorOf, newAuditId, toAuditEntry, type AuditRow } from '../audit-row.ts'
import type { AuditDraft, AuditFilter, AuditOnce, AuditPage, AuditStore } from '../audit-types.ts'

/**
 * The audit log's tables. `seq` orders rows written within one millisecond and is never reused
 * (AUTOINCREMENT), so a cursor stays valid after pruning. The trigger makes the log append-only
 * for every connection to the file: only pruning (a DELETE) removes rows.
 */
export const AUDIT_SCHEMA = `
CREATE TABLE IF NOT EXISTS audit_log (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, at INTEGER NOT NULL, action TEXT NOT NULL,
  actor_type TEXT NOT NULL, actor_key_id TEXT, target_type TEXT NOT NULL, target_id TEXT NOT NULL,
  request_id TEXT NOT NULL, ip TEXT, details TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS audit_log_at ON audit_log (at, seq);
CREATE TABLE IF NOT EXISTS audit_once (key TEXT PRIMARY KEY, at INTEGER NOT NULL);
CREATE TRIGGER IF NOT EXISTS audit_log_append_only BEFORE UPDATE ON audit_log
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
`

/**
 * The audit log in SQLite (its tables made by AUDIT_SCHEMA). `append` is synchronous so a store method
 * can call it inside the transaction of the change it records (context.ts).
 */
export class SqliteAudit {
  readonly #db: Database.Database
  readonly #stmt

  constructor(db: Database.Database) {
    this.#db = db
    this.#stmt = {
      insert: db.prepare(`INSERT INTO audit_log (${AUDIT_INSERT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      page: db.prepare<Record<string, unknown>, AuditRow>(`SELECT * FROM audit_log
        WHERE (@from IS NULL OR at >= @from) AND (@to IS NULL OR at <= @to) AND (@action IS NULL OR action = @action)
          AND (@actor IS NULL OR actor_key_id = @actor) AND (@target IS NULL OR target_id = @target)
          AND (@at IS NULL OR at < @at OR (at = @at AND seq < @seq))
        ORDER BY at DESC, seq DESC LIMIT @limit`),
      onceAt: db.prepare<[string], { at: number }>('SELECT at FROM audit_once WHERE key = ?'),
      onceSet: db.prepare(
        'INSERT INTO audit_once (key, at) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET at = excluded.at',
      ),
      prune: db.prepare('DELETE FROM audit_log WHERE at < ?'),
      pruneOnce: db.prepare('DELETE FROM audit_once WHERE at < ?'),
    }
  }

  /** Appends one row; call it inside the transaction of the change it records. */
  append(draft: AuditDraft): void {
    this.#stmt.insert.run(...auditColumns(draft, newAuditId()))
  }

  /** As `append`, unless a row under `once.key` was appended within `once.withinMs` (IMMEDIATE: checked under the write lock). */
  appendOnce(draft: AuditDraft, once: AuditOnce): boolean {
    return this.#db
      .transaction(() => {
        const last = this.#stmt.onceAt.get(once.key)?.at
        if (last !== undefined && draft.at - last < once.withinMs) return false
        this.#stmt.onceSet.run(once.key, draft.at)
        this.append(draft)
        return true
      })
      .immediate()
  }

  page(f: AuditFilter): AuditPage {
    const rows = this.#stmt.page.all({
      from: f.fromMs ?? null,
      to: f.toMs ?? null,
      action: f.action ?? null,
      actor: f.actorKeyId ?? null,
      target: f.targetId ?? null,
      at: f.after?.at ?? null,
      seq: f.after?.seq ?? null,
      limit: f.limit + 1,
    })
    const shown = rows.slice(0, f.limit)
    return { entries: shown.map(toAuditEntry), next: rows.length > f.limit ? cursorOf(shown[shown.length - 1]!) : null }
  }

  /** Drops rows written before `beforeMs`; returns how many. */
  prune(beforeMs: number): number {
    return this.#db.transaction(() => {
      this.#stmt.pruneOnce.run(beforeMs)
      return this.#stmt.prune.run(beforeMs).changes
    })()
  }
}

/** The audit log's calls (audit-types.ts states the contract). */
export const sqliteAuditStore = (log: SqliteAudit): AuditStore => ({
  async appendAudit(draft, once) {
    if (once) return log.appendOnce(draft, once)
    log.append(draft)
    return true
  },
  queryAudit: async (filter) => log.page(filter),
  pruneAudit: async (beforeMs) => log.prune(beforeMs),
})
