import path from 'node:path'
import { StoreError } from './errors.ts'

/** Where the store lives, from `--store`: the data folder's SQLite file by default. */
export type StoreLocation = { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: URL }

const SECRET_PARAM = /pass|secret/i

/**
 * `sqlite:PATH` (empty PATH: `voxgate.db` in the data folder) or `postgres://…` / `postgresql://…`.
 * The value is never echoed in an error: it may hold a password.
 */
export function parseStoreUrl(value: string | undefined, dataDir: string): StoreLocation {
  const defaultFile = path.join(dataDir, 'voxgate.db')
  if (value === undefined || value === '' || value === 'sqlite:') return { kind: 'sqlite', file: defaultFile }
  if (value.startsWith('sqlite:')) return { kind: 'sqlite', file: path.resolve(value.slice('sqlite:'.length)) }
  if (/^postgres(ql)?:\/\//.test(value)) {
    try {
      return { kind: 'postgres', url: new URL(value) }
    } catch {
      throw new StoreError('bad_store_url', 'the --store URL is not a valid postgres:// URL')
    }
  }
  throw new StoreError('bad_store_url', '--store must be sqlite:PATH or postgres://USER@HOST/DATABASE')
}

/** A URL safe to print: no password, in the user part or in the query. */
export function redactUrl(url: URL): string {
  const safe = new URL(url.href)
  if (safe.password) safe.password = '***'
  for (const name of [...safe.searchParams.keys()]) if (SECRET_PARAM.test(name)) safe.searchParams.set(name, '***')
  return safe.href
}
