import { createKey } from '../keys/create-key.ts'
import { revokeKey } from '../keys/revoke.ts'
import { rotateSigningKey } from '../auth/key-ring.ts'
import { isScope, SCOPES, type Scope } from '../scopes.ts'
import { cliOrigin } from '../audit/origin.ts'
import { ROTATION_GRACE_DEFAULT_SECONDS, ROTATION_GRACE_MAX_SECONDS, rotateKey } from '../keys/rotate.ts'
import { openStore } from '../store/open.ts'
import { isoOrNull } from '../clock.ts'
import { DEFAULT_DATA_DIR } from '../config.ts'
import { UsageError } from './args.ts'
import type { Io } from './io.ts'
import { STORE_OPTIONS } from './option-table.ts'
import { optionsHelp, resolveOptions } from './options.ts'

export const KEYS_HELP = `Usage: voxgate keys <create|list|rotate|revoke|rotate-signing> [options]

  keys create [--name N] [--scopes mint,speech,read,admin] [--expires-in-days N] [--json]
                                    create an API key and print it once (scopes: admin for
                                    the store's first key, else mint,speech)
  keys list [--json]                id, name, scopes, display prefix, created, expires, last used,
                                    rotating until, revoked
  keys rotate <id> [--grace-seconds N] [--json]
                                    give a key a new secret, printed once; the old one works N s
                                    more (default ${ROTATION_GRACE_DEFAULT_SECONDS}, at most ${ROTATION_GRACE_MAX_SECONDS})
  keys revoke <id> [--json]         revoke a key and every token it minted (never the last admin key)
  keys rotate-signing [--json]      sign new tokens with a new key (old tokens stay valid)

Every change is recorded in the audit log (voxgate audit) as made by the CLI.

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
    'grace-seconds': { type: 'string' },
  } as const
  const { config, values, positionals, help } = resolveOptions(STORE_OPTIONS, rest, io.env, local, true)
  if (help) {
    io.out(KEYS_HELP)
    return 0
  }
  if (sub !== 'rotate' && values['grace-seconds'] !== undefined)
    throw new UsageError('--grace-seconds goes with keys rotate only')
  const store = await openStore({ ...config, dataDir: config.dataDir ?? DEFAULT_DATA_DIR })
  const origin = cliOrigin()
  try {
    switch (sub) {
      case 'create': {
        if (positionals.length > 0) throw new UsageError(`unexpected argument: ${positionals[0]}`)
        const now = Date.now()
        const created = await createKey(store, typeof values.name === 'string' ? values.name : 'default', now, {
          scopes: parseScopes(values.scopes),
          expiresAt: expiryOf(values['expires-in-days'], now),
          origin,
        })
        if (values.json) io.out(JSON.stringify(created))
        else
          io.out(`Created API key ${created.id} (${created.name}). It is shown only this once:\n\n  ${created.key}\n`)
        return 0
      }
      case 'list': {
        const now = Date.now()
        const keys = (await store.listApiKeys()).map((k) => ({
          id: k.id,
          name: k.name,
          scopes: k.scopes,
          prefix: k.prefix,
          created_at: isoOrNull(k.createdAt),
          expires_at: isoOrNull(k.expiresAt),
          last_used_at: isoOrNull(k.lastUsedAt),
          rotating_until: k.rotatingUntil !== null && k.rotatingUntil > now ? isoOrNull(k.rotatingUntil) : null,
          revoked_at: isoOrNull(k.revokedAt),
        }))
        if (values.json) io.out(JSON.stringify(keys))
        else
          for (const k of keys)
            io.out(
              `${k.id}  ${k.prefix}…  ${k.name}  [${k.scopes.join(',')}]  created ${k.created_at}  last used ${k.last_used_at ?? 'never'}${k.rotating_until ? `  old secret until ${k.rotating_until}` : ''}${k.revoked_at ? `  REVOKED ${k.revoked_at}` : ''}`,
            )
        return 0
      }
      case 'rotate': {
        const id = onlyId(positionals, 'rotate')
        const now = Date.now()
        // Its event lands in the store's outbox with it; a running server delivers it.
        const rotated = await rotateKey(store, {
          id,
          graceSeconds: graceOf(values['grace-seconds']),
          nowMs: now,
          origin,
        })
        if (!rotated) throw new UsageError(`no active key with id ${id}`)
        if (values.json) io.out(JSON.stringify(rotated))
        else
          io.out(
            `Rotated ${id}. Its new secret is shown only this once:\n\n  ${rotated.key}\n\nThe old secret works until ${rotated.rotating_until}.`,
          )
        return 0
      }
      case 'revoke': {
        const id = onlyId(positionals, 'revoke')
        const now = Date.now()
        const result = await revokeKey(store, { id, nowMs: now, origin })
        if (result === 'not_found') throw new UsageError(`no active key with id ${id}`)
        // As the HTTP API's 409: someone must be able to administer the store.
        if (result === 'last_admin_key') {
          io.err(`voxgate: last_admin_key: ${id} is the last admin key; create another admin key first`)
          return 1
        }
        if (values.json) io.out(JSON.stringify({ id, revoked_at: isoOrNull(now) }))
        else io.out(`Revoked ${id}. Running servers refuse it, and every token it minted, within seconds.`)
        return 0
      }
      case 'rotate-signing': {
        const kid = await rotateSigningKey(store, Date.now(), { toleranceSeconds: 5, origin })
        if (values.json) io.out(JSON.stringify({ kid }))
        else io.out(`New tokens are signed with ${kid}; tokens signed before stay valid until they expire.`)
        return 0
      }
      default:
        throw new UsageError(`unknown keys command: ${sub}`)
    }
  } finally {
    await store.close()
  }
}

function onlyId(positionals: string[], command: string): string {
  const [id, extra] = positionals
  if (id === undefined || extra !== undefined) throw new UsageError(`keys ${command} takes exactly one key id`)
  return id
}

/** `--grace-seconds N` (0 to 604800; default 86400), or a usage error naming the flag. */
function graceOf(value: unknown): number {
  if (value === undefined) return ROTATION_GRACE_DEFAULT_SECONDS
  const seconds = Number(value)
  if (typeof value !== 'string' || !/^\d+$/.test(value) || seconds > ROTATION_GRACE_MAX_SECONDS)
    throw new UsageError(`--grace-seconds: a whole number of seconds from 0 to ${ROTATION_GRACE_MAX_SECONDS}`)
  return seconds
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
