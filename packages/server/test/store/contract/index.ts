/**
 * The store contract, one suite per concern (src/store/*.ts states each on its interface), as tests
 * every store implementation must pass: SQLite (sqlite.test.ts) and PostgreSQL (postgres.test.ts).
 * Each implementation's test file calls `storeContract` with a way to open a fresh, empty store.
 */
import { describe } from 'node:test'
import type { Store } from '../../../src/store/types.ts'
import { apiKeysContract } from './api-keys.ts'
import { auditContract } from './audit.ts'
import { consoleSessionsContract } from './console-sessions.ts'
import { countersContract } from './counters.ts'
import type { WithStore } from './helpers.ts'
import { quotasContract } from './quotas.ts'
import { revocationsContract } from './revocations.ts'
import { signingKeysContract } from './signing-keys.ts'
import { stateContract } from './state.ts'
import { usageContract } from './usage.ts'
import { webhooksContract } from './webhooks.ts'

const CONCERNS: [string, (withStore: WithStore) => void][] = [
  ['API keys', apiKeysContract],
  ['signing keys', signingKeysContract],
  ['revocations', revocationsContract],
  ['usage', usageContract],
  ['quotas', quotasContract],
  ['shared counters', countersContract],
  ['audit log', auditContract],
  ['webhooks', webhooksContract],
  ['console sessions', consoleSessionsContract],
  ['version, snapshot and pruning', stateContract],
]

export function storeContract(name: string, open: () => Promise<Store>): void {
  const withStore: WithStore = async (fn) => {
    const store = await open()
    try {
      await fn(store)
    } finally {
      await store.close()
    }
  }
  describe(`store contract: ${name}`, () => {
    for (const [concern, contract] of CONCERNS) describe(concern, () => contract(withStore))
  })
}
