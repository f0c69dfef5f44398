import type pg from 'pg'
import type { AuditDraft } from '../audit-types.ts'
import type { ChangeTrail } from '../trail.ts'
import { appendAudit } from './audit.ts'
import { inTransaction, runOn, type PgQuery } from './connection.ts'
import { appendAuditAndEnqueue, enqueueIn } from './outbox.ts'

/** `change` is one data-modifying statement ending in `RETURNING 1`; the version moves only when it changed a row. */
export const versioned = (change: string) => `WITH change AS (${change}),
  bump AS (UPDATE meta SET value = value + 1 WHERE name = 'version' AND EXISTS (SELECT 1 FROM change))
  SELECT count(*)::int AS n FROM change`

/** As `versioned`, for a change ending in `RETURNING *`: answers the rows it changed, as they are now. */
export const versionedRows = (change: string) => `WITH change AS (${change}),
  bump AS (UPDATE meta SET value = value + 1 WHERE name = 'version' AND EXISTS (SELECT 1 FROM change))
  SELECT * FROM change`

/**
 * What every PostgreSQL concern shares: the pool, the key-encryption key, transactions, and the
 * versioned change. A change with nothing else to write is one statement (atomic without a held
 * transaction); one with an audit row or an event runs in a transaction with them (writeTrail).
 */
export interface PgContext {
  /** One statement on the pool. */
  readonly query: PgQuery
  /** Seals signing keys and webhook secrets (key-sealing.ts). */
  readonly kek: Buffer
  transaction<T>(work: (query: PgQuery) => Promise<T>): Promise<T>
  /** A versioned change; with an audit draft, in a transaction that appends the row when the change changed something. */
  versioned(change: string, params: unknown[], audit?: AuditDraft): Promise<number>
}

export function pgContext(pool: pg.Pool, kek: Buffer): PgContext {
  const query: PgQuery = (sql, params = []) => runOn(pool, sql, params)
  const transaction = <T>(work: (q: PgQuery) => Promise<T>) => inTransaction(pool, work)
  return {
    query,
    kek,
    transaction,
    async versioned(change, params, audit) {
      const run = async (q: PgQuery) => (await q<{ n: number }>(versioned(change), params)).rows[0]!.n
      if (!audit) return run(query)
      return transaction(async (q) => {
        const n = await run(q)
        if (n > 0) await appendAudit(q, audit)
        return n
      })
    },
  }
}

/**
 * Writes a change's trail with the query of its transaction: its audit row and its event made from
 * `result`, in one statement when it has both (each round trip holds the transaction open longer).
 */
export async function writeTrail<T>(query: PgQuery, trail: ChangeTrail<T> | undefined, result: T): Promise<void> {
  const event = trail?.event?.(result)
  if (trail?.audit && event) await appendAuditAndEnqueue(query, trail.audit, event)
  else if (trail?.audit) await appendAudit(query, trail.audit)
  else if (event) await enqueueIn(query, event)
}
