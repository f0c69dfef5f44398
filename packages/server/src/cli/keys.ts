import { generateApiKey } from '../auth/api-keys.ts'
import { rotateSigningKey } from '../auth/key-ring.ts'
import { openStore } from '../store/open.ts'
import type { Store } from '../store/types.ts'
import { DEFAULT_DATA_DIR } from '../config.ts'
import { UsageError } from './args.ts'
import type { Io } from './io.ts'
import { STORE_OPTIONS } from './option-table.ts'
import { optionsHelp, resolveOptions } from './options.ts'

export const KEYS_HELP = `Usage: voxgate keys <create|list|revoke|rotate-signing> [options]

  keys create [--name N] [--json]   create an API key and print it once
  keys list [--json]                id, name, display prefix, created, last used, revoked
  keys revoke <id>                  revoke a key and every token it minted
  keys rotate-signing               sign new tokens with a new key (old tokens stay valid)

Every command applies the store's pending migrations first.

Options:
${optionsHelp(STORE_OPTIONS)}
  -h, --help                    this help`

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString())

export async function createKey(store: Store, name: string, nowMs: number) {
  const key = generateApiKey()
  await store.createApiKey({ id: key.id, name, hash: key.hash, prefix: key.prefix, createdAt: nowMs })
  return { id: key.id, key: key.key, name, created_at: iso(nowMs) }
}

export async function keysCommand(argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv
  if (sub === undefined || sub === '--help' || sub === '-h') {
    io.out(KEYS_HELP)
    return sub === undefined ? 2 : 0
  }
  const local = { name: { type: 'string' }, json: { type: 'boolean' } } as const
  const { config, values, positionals, help } = resolveOptions(STORE_OPTIONS, rest, io.env, local, true)
  if (help) {
    io.out(KEYS_HELP)
    return 0
  }
  const store = await openStore({ ...config, dataDir: config.dataDir ?? DEFAULT_DATA_DIR })
  try {
    switch (sub) {
      case 'create': {
        if (positionals.length > 0) throw new UsageError(`unexpected argument: ${positionals[0]}`)
        const created = await createKey(store, typeof values.name === 'string' ? values.name : 'default', Date.now())
        if (values.json) io.out(JSON.stringify(created))
        else
          io.out(`Created API key ${created.id} (${created.name}). It is shown only this once:\n\n  ${created.key}\n`)
        return 0
      }
      case 'list': {
        const keys = (await store.listApiKeys()).map((k) => ({
          id: k.id,
          name: k.name,
          prefix: k.prefix,
          created_at: iso(k.createdAt),
          last_used_at: iso(k.lastUsedAt),
          revoked_at: iso(k.revokedAt),
        }))
        if (values.json) io.out(JSON.stringify(keys))
        else
          for (const k of keys)
            io.out(
              `${k.id}  ${k.prefix}…  ${k.name}  created ${k.created_at}  last used ${k.last_used_at ?? 'never'}${k.revoked_at ? `  REVOKED ${k.revoked_at}` : ''}`,
            )
        return 0
      }
      case 'revoke': {
        const [id, extra] = positionals
        if (id === undefined || extra !== undefined) throw new UsageError('keys revoke takes exactly one key id')
        if (!(await store.revokeApiKey(id, Date.now()))) throw new UsageError(`no active key with id ${id}`)
        io.out(`Revoked ${id}. Running servers refuse it, and every token it minted, within seconds.`)
        return 0
      }
      case 'rotate-signing': {
        const kid = await rotateSigningKey(store, Date.now(), 5)
        io.out(`New tokens are signed with ${kid}; tokens signed before stay valid until they expire.`)
        return 0
      }
      default:
        throw new UsageError(`unknown keys command: ${sub}`)
    }
  } finally {
    await store.close()
  }
}
