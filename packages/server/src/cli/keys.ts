import { createKey, iso } from '../auth/create-key.ts'
import { rotateSigningKey } from '../auth/key-ring.ts'
import { isScope, SCOPES, type KeyPolicy, type Scope } from '../keys/scopes.ts'
import { openStore } from '../store/open.ts'
import type { Store } from '../store/types.ts'
import { DEFAULT_DATA_DIR } from '../config.ts'
import { UsageError } from './args.ts'
import type { Io } from './io.ts'
import { STORE_OPTIONS } from './option-table.ts'
import { optionsHelp, resolveOptions } from './options.ts'

export const KEYS_HELP = `Usage: voxgate keys <create|list|revoke|rotate-signing> [options]

  keys create [--name N] [--scopes mint,speech,read,admin] [--expires-in-days N] [--json]
                                    create an API key and print it once (scopes: admin for
                                    the store's first key, else mint,speech)
  keys list [--json]                id, name, scopes, display prefix, created, expires, last used, revoked
  keys revoke <id>                  revoke a key and every token it minted
  keys rotate-signing               sign new tokens with a new key (old tokens stay valid)

Every command applies the store's pending migrations first.

Options:
${optionsHelp(STORE_OPTIONS)}
  -h, --help                    this help`

export async function keysCommand(argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv
  if (sub === undefined || sub === '--help' || sub === '-h') {
    io.out(KEYS_HELP)
    return sub === undefined ? 2 : 0
  }
  const local = {
    name: { type: 'string' },
    json: { type: 'boolean' },
    scopes: { type: 'string' },
    'expires-in-days': { type: 'string' },
  } as const
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
        const now = Date.now()
        const created = await createKey(store, typeof values.name === 'string' ? values.name : 'default', now, {
          scopes: parseScopes(values.scopes),
          expiresAt: expiryOf(values['expires-in-days'], now),
        })
        if (values.json) io.out(JSON.stringify(created))
        else
          io.out(`Created API key ${created.id} (${created.name}). It is shown only this once:\n\n  ${created.key}\n`)
        return 0
      }
      case 'list': {
        const keys = (await store.listApiKeys()).map((k) => ({
          id: k.id,
          name: k.name,
          scopes: k.scopes,
          prefix: k.prefix,
          created_at: iso(k.createdAt),
          expires_at: iso(k.expiresAt),
          last_used_at: iso(k.lastUsedAt),
          revoked_at: iso(k.revokedAt),
        }))
        if (values.json) io.out(JSON.stringify(keys))
        else
          for (const k of keys)
            io.out(
              `${k.id}  ${k.prefix}…  ${k.name}  [${k.scopes.join(',')}]  created ${k.created_at}  last used ${k.last_used_at ?? 'never'}${k.revoked_at ? `  REVOKED ${k.revoked_at}` : ''}`,
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

/** `--scopes mint,speech`: every name a known scope, or a usage error naming the flag. */
function parseScopes(value: unknown): Scope[] | undefined {
  if (typeof value !== 'string') return undefined
  const scopes = value.split(',').map((s) => s.trim())
  const bad = scopes.find((s) => !isScope(s))
  if (bad !== undefined) throw new UsageError(`--scopes: unknown scope "${bad}" (use ${SCOPES.join(', ')})`)
  return [...new Set(scopes as Scope[])]
}

/** Longest `--expires-in-days`. */
const EXPIRES_IN_DAYS_MAX = 3650

/** `--expires-in-days N` (1 to 3650) as an instant, or a usage error naming the flag. */
function expiryOf(value: unknown, nowMs: number): number | null {
  if (typeof value !== 'string') return null
  const days = Number(value)
  if (!Number.isInteger(days) || days < 1 || days > EXPIRES_IN_DAYS_MAX)
    throw new UsageError(`--expires-in-days: a whole number of days from 1 to ${EXPIRES_IN_DAYS_MAX}`)
  return nowMs + days * 86_400_000
}
