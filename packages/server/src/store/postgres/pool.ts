import pg from 'pg'
import { StoreError } from '../errors.ts'
import { redactUrl } from '../url.ts'

/**
 * Bounds on every wait, so a store call rejects instead of hanging when PostgreSQL or the network
 * goes away: connecting, the server running a statement, and the client waiting for any answer at
 * all (the last one also covers a link that silently stops delivering). Overridable per URL with
 * libpq's `connect_timeout` (seconds) and `statement_timeout` / `query_timeout` (milliseconds).
 */
const DEFAULTS = { connectTimeoutSeconds: 5, statementTimeoutMs: 10_000, queryTimeoutMs: 15_000 }
const POOL_SIZE = 10
const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/

export interface PgTarget {
  pool: pg.Pool
  /** The schema named by `?schema=`, created at migration time; undefined: the server's search_path. */
  schema: string | undefined
  /** The URL without its password, for messages. */
  display: string
}

/**
 * `?schema=NAME` selects a schema (voxgate creates it if missing and keeps all its tables there), so
 * several deployments, or test runs, can share one database. Our own parameters are taken out of the
 * URL: pg lets the URL's values override explicit options.
 */
export function createPool(url: URL): PgTarget {
  const u = new URL(url.href)
  const take = (name: string) => {
    const v = u.searchParams.get(name) ?? undefined
    u.searchParams.delete(name)
    return v
  }
  const schema = take('schema')
  if (schema !== undefined && !IDENTIFIER.test(schema))
    throw new StoreError(
      'bad_store_url',
      "the --store URL's schema must be a plain lower-case identifier (a-z, 0-9, _)",
    )
  const options = [take('options'), schema && `-c search_path=${schema}`].filter(Boolean).join(' ')
  const num = (name: string, fallback: number) => positive(take(name), name) ?? fallback
  const pool = new pg.Pool({
    connectionString: u.href,
    max: POOL_SIZE,
    connectionTimeoutMillis: num('connect_timeout', DEFAULTS.connectTimeoutSeconds) * 1000,
    statement_timeout: num('statement_timeout', DEFAULTS.statementTimeoutMs),
    query_timeout: num('query_timeout', DEFAULTS.queryTimeoutMs),
    idleTimeoutMillis: 30_000,
    ...(options && { options }),
  })
  // An idle connection that dies (PostgreSQL restarted, link cut) is reported here; without a
  // listener it would crash the process. The next query opens a fresh one or fails on its own.
  pool.on('error', () => undefined)
  return { pool, schema, display: redactUrl(url) }
}

function positive(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined
  if (!/^\d+$/.test(value) || Number(value) === 0)
    throw new StoreError('bad_store_url', `the --store URL's ${name} must be a positive whole number`)
  return Number(value)
}

/** A failure talking to PostgreSQL, as a message without the URL's secrets (pg's own messages hold none). */
export function pgFailure(err: unknown): string {
  if (err instanceof Error) return err.message || (err as NodeJS.ErrnoException).code || err.name
  return String(err)
}
