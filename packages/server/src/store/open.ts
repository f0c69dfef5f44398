import { openSqliteStore } from './sqlite.ts'
import type { Store } from './types.ts'

export interface StoreOptions {
  /** The data folder; the embedded store is its `voxgate.db`. */
  dataDir: string
}

/**
 * The one place a store is built, for the server and every CLI command alike, so they always agree
 * on where the data is and how it is opened (file modes, pragmas, schema).
 */
export function openStore(options: StoreOptions): Store {
  return openSqliteStore(options.dataDir)
}
