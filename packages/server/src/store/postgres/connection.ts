import type pg from 'pg'
import { StoreError } from '../errors.ts'
import { pgFailure } from './pool.ts'

/** Runs one statement on a pool or on a transaction's client, errors already made StoreErrors. */
export type PgQuery = <R extends pg.QueryResultRow = pg.QueryResultRow>(
  sql: string,
  params?: unknown[],
) => Promise<pg.QueryResult<R>>

/** One statement on a pool or a client. pg's errors carry no credentials, but they are wrapped so no connection detail rides along either. */
export async function runOn<R extends pg.QueryResultRow>(
  db: pg.Pool | pg.PoolClient,
  sql: string,
  params: unknown[],
): Promise<pg.QueryResult<R>> {
  try {
    return await db.query<R>(sql, params)
  } catch (err) {
    const e = new StoreError('store_unavailable', `PostgreSQL: ${pgFailure(err)}`)
    if (err && typeof err === 'object' && 'code' in err && typeof err.code === 'string')
      Object.assign(e, { sqlState: err.code })
    throw e
  }
}

/**
 * Runs `work` in one transaction on one connection: it commits when `work` resolves and rolls back
 * when it throws, so a change, its audit row and its event land together or not at all.
 */
export async function inTransaction<T>(pool: pg.Pool, work: (query: PgQuery) => Promise<T>): Promise<T> {
  const client = await pool.connect().catch((err: unknown) => {
    throw new StoreError('store_unavailable', `PostgreSQL: ${pgFailure(err)}`)
  })
  const query: PgQuery = (sql, params = []) => runOn(client, sql, params)
  let broken = false
  try {
    await query('BEGIN')
    const result = await work(query)
    await query('COMMIT')
    return result
  } catch (err) {
    // A connection that cannot even roll back is dropped, not handed to the next caller.
    await client.query('ROLLBACK').catch(() => (broken = true))
    throw err
  } finally {
    client.release(broken)
  }
}
