import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { needed, requireService, serviceAt } from './services.ts'
import { TcpProxy } from './tcp-proxy.ts'

/**
 * The machine's PostgreSQL (trust auth); every test works in a schema of its own and drops it.
 * VOXGATE_TEST_POSTGRES_URL points the tests at another one (any user, password and database).
 */
export const PG_URL = process.env.VOXGATE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

// Every file that imports this needs PostgreSQL: without it, the file fails here with one line.
await needed(() =>
  requireService({
    name: 'PostgreSQL',
    ...serviceAt(PG_URL, 5432),
    howToStart:
      'start it (.ci/run does: pg_ctlcluster <version> main start) with a database `test`, or set VOXGATE_TEST_POSTGRES_URL=postgres://USER[:PASSWORD]@HOST:PORT/DATABASE',
  }),
)

/**
 * How voxgate shows a store URL through a PgProxy on `port` with a password (store/url.ts): the
 * password masked, whatever user and database VOXGATE_TEST_POSTGRES_URL names.
 */
export function shownProxyUrl(port: number, schema: string): string {
  const base = new URL(PG_URL)
  return `postgres://${base.username}:***@127.0.0.1:${port}${base.pathname}?schema=${schema}`
}

export { newKek, TEST_KEK } from './kek.ts'

export interface TestSchema {
  name: string
  /** The store URL for this schema; `base` lets a test go through a proxy or add a password. */
  url(base?: string, params?: Record<string, string>): string
  query<R extends pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<R[]>
  drop(): Promise<void>
}

/** A fresh schema name (created by the store on first open, with `?schema=`). */
export function testSchema(): TestSchema {
  const name = `vxt_${randomBytes(6).toString('hex')}`
  const admin = async <T>(fn: (c: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: PG_URL })
    await client.connect()
    try {
      return await fn(client)
    } finally {
      await client.end()
    }
  }
  return {
    name,
    url(base = PG_URL, params = {}) {
      const u = new URL(base)
      u.searchParams.set('schema', name)
      for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v)
      return u.href
    },
    query: (sql, params = []) =>
      admin(async (c) => {
        await c.query(`SET search_path TO "${name}"`)
        return (await c.query(sql, params)).rows
      }),
    drop: () =>
      admin(async (c) => {
        await c.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`)
      }),
  }
}

/** A TcpProxy in front of the test PostgreSQL (tcp-proxy.ts), with the store URL through it. */
export class PgProxy extends TcpProxy {
  static override async start(): Promise<PgProxy> {
    const pg = new URL(PG_URL)
    return TcpProxy.listen(new PgProxy({ host: pg.hostname, port: Number(pg.port || 5432) }))
  }

  /** PG_URL with this proxy as host, plus a user password if given. */
  url(password?: string): string {
    const u = this.via(PG_URL)
    if (password) u.password = password
    return u.href
  }
}
