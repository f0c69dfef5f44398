import type Database from 'better-sqlite3'
import type { AuditDraft } from '../audit-types.ts'
import type { ChangeTrail } from '../trail.ts'
import type { SqliteAudit } from './audit.ts'
import type { SqliteOutbox } from './outbox.ts'

/**
 * What every SQLite concern shares: the connection, the version, and the writing of a change's audit
 * row and outbox event. better-sqlite3 is synchronous, so everything a change writes runs inside one
 * `db.transaction` call: the change, its version bump, its row and its event commit together or roll
 * back together.
 */
export interface SqliteContext {
  readonly db: Database.Database
  /** Runs `fn` in one transaction that also moves the version. */
  write<T>(fn: () => T): T
  /** Moves the version; call it inside the change's transaction. */
  bump(): void
  /** Appends the change's audit row, if it has one; call it inside the change's transaction. */
  audit(draft: AuditDraft | undefined): void
  /** Writes the change's trail (its row, then its event made from `result()`); inside its transaction. */
  trail<T>(trail: ChangeTrail<T> | undefined, result: () => T): void
}

export function sqliteContext(db: Database.Database, log: SqliteAudit, outbox: SqliteOutbox): SqliteContext {
  const bump = db.prepare("UPDATE meta SET value = value + 1 WHERE name = 'version'")
  const audit = (draft: AuditDraft | undefined) => {
    if (draft) log.append(draft)
  }
  return {
    db,
    write: (fn) =>
      db.transaction(() => {
        const result = fn()
        bump.run()
        return result
      })(),
    bump: () => bump.run(),
    audit,
    trail(trail, result) {
      audit(trail?.audit)
      if (trail?.event) outbox.enqueue(trail.event(result()))
    },
  }
}
