import { parseKek } from './key-sealing.ts'
import { openSqliteStore } from './sqlite/store.ts'
import type { Store } from './types.ts'
import { parseStoreUrl } from './url.ts'

export interface StoreOptions {
  /** The data folder; the default store is its `voxgate.db`. */
  dataDir: string
  /** `--store`: `sqlite:PATH` or `postgres://…` (`?schema=NAME` picks a schema). @default the data folder's SQLite file */
  storeUrl?: string | undefined
  /** Base64 of 32 bytes that seals signing keys in PostgreSQL (required there; SQLite relies on file modes). */
  keyEncryptionKey?: string | undefined
}

/**
 * The one place a store is built, for the server and every CLI command alike, so they always agree
 * on where the data is and how it is opened (file modes and pragmas; migrations and the KEK check).
 * Rejects with a StoreError whose message is one line and never holds a password.
 */
export async function openStore(options: StoreOptions): Promise<Store> {
  const location = parseStoreUrl(options.storeUrl, options.dataDir)
  if (location.kind === 'sqlite') return openSqliteStore(location.file)
  // Loaded only for PostgreSQL: pg is not needed by the SQLite store (the default) or its CLI commands.
  const { openPostgresStore } = await import('./postgres/store.ts')
  return openPostgresStore(location.url, parseKek(options.keyEncryptionKey))
}
