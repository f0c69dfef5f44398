import { VoxgateError } from '@voxgate/protocol'
import { cliOrigin } from '../audit/origin.ts'
import { systemClock } from '../clock.ts'
import { DEFAULT_DATA_DIR } from '../config.ts'
import { QuotaAdmin } from '../quotas/admin.ts'
import { QuotaPut, type QuotaView } from '../quotas/schema.ts'
import { openStore } from '../store/open.ts'
import { UsageError } from './args.ts'
import type { Io } from './io.ts'
import { STORE_OPTIONS } from './option-table.ts'
import { optionsHelp, resolveOptions } from './options.ts'

export const QUOTAS_HELP = `Usage: voxgate quotas <set|list|remove> [options]

  quotas set --period day|month [--sub S] [--key-id ID] [--characters N] [--audio-seconds N]
             [--alert-at 0.5,0.9,1] [--json]
      cap what one end-user (sub), one API key, or both (neither: all use) may use per UTC day or
      month, across all their tokens; setting the same sub, key and period again changes the caps;
      --alert-at: the fractions of a cap that fire a quota.threshold webhook event (default 0.8,1)
  quotas list [--json]      every quota, with its use in the current period
  quotas remove <id>        remove a quota

A running server applies a change within its store poll (1 s by default); a request past a quota
gets 429 quota_exceeded with Retry-After until the period ends.

Options:
${optionsHelp(STORE_OPTIONS)}
  -h, --help   this help`

const int = (v: string | undefined, flag: string): number | undefined => {
  if (v === undefined) return undefined
  if (!/^\d+$/.test(v)) throw new UsageError(`--${flag} must be a whole number`)
  return Number(v)
}

export async function quotasCommand(argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv
  if (sub === undefined || sub === '--help' || sub === '-h') {
    io.out(QUOTAS_HELP)
    return sub === undefined ? 2 : 0
  }
  const local = {
    period: { type: 'string' },
    sub: { type: 'string' },
    'key-id': { type: 'string' },
    characters: { type: 'string' },
    'audio-seconds': { type: 'string' },
    'alert-at': { type: 'string' },
    json: { type: 'boolean' },
  } as const
  const { config, values, positionals, help } = resolveOptions(STORE_OPTIONS, rest, io.env, local, true)
  if (help) {
    io.out(QUOTAS_HELP)
    return 0
  }
  if (!['set', 'list', 'remove'].includes(sub)) throw new UsageError(`unknown quotas command: ${sub}`)
  if (sub !== 'remove' && positionals.length > 0) throw new UsageError(`unexpected argument: ${positionals[0]}`)
  if (sub === 'remove' && positionals.length !== 1) throw new UsageError('quotas remove takes one quota id')
  const store = await openStore({ ...config, dataDir: config.dataDir ?? DEFAULT_DATA_DIR })
  const admin = new QuotaAdmin(store, systemClock)
  try {
    switch (sub) {
      case 'set': {
        const parsed = QuotaPut.safeParse({
          ...(values.period !== undefined && { period: values.period }),
          ...(values.sub !== undefined && { sub: values.sub }),
          ...(values['key-id'] !== undefined && { key_id: values['key-id'] }),
          ...(values.characters !== undefined && { characters: int(String(values.characters), 'characters') }),
          ...(values['audio-seconds'] !== undefined && {
            audio_seconds: int(String(values['audio-seconds']), 'audio-seconds'),
          }),
          ...(values['alert-at'] !== undefined && {
            alert_at: String(values['alert-at'])
              .split(',')
              .map((v) => (/^\d*\.?\d+$/.test(v.trim()) ? Number(v) : Number.NaN)),
          }),
        })
        if (!parsed.success) {
          const issue = parsed.error.issues[0]
          throw new UsageError(
            `--${String(issue?.path[0] ?? 'option').replace('_', '-')}: ${issue?.message ?? 'is invalid'}`,
          )
        }
        const { quota, created } = await admin.put(parsed.data, cliOrigin()).catch((err: unknown) => {
          throw err instanceof VoxgateError
            ? new UsageError(err.message.replace('Invalid request body: ', '--').replace('key_id', 'key-id'))
            : err
        })
        io.out(values.json ? JSON.stringify(quota) : `${created ? 'Set' : 'Changed'} ${line(quota)}`)
        return 0
      }
      case 'list': {
        const quotas = await admin.list()
        io.out(values.json ? JSON.stringify(quotas) : quotas.length === 0 ? 'No quotas.' : quotas.map(line).join('\n'))
        return 0
      }
      default: {
        if (!(await admin.remove(positionals[0]!, cliOrigin()))) {
          io.err(`voxgate: no quota has the id ${positionals[0]}`)
          return 1
        }
        io.out(`Removed quota ${positionals[0]}`)
        return 0
      }
    }
  } finally {
    await store.close()
  }
}

/** One quota, readable: who, what per period, and how much is used until when. */
function line(q: QuotaView): string {
  const who =
    [q.sub !== null ? `sub ${q.sub}` : '', q.key_id !== null ? `key ${q.key_id}` : ''].filter(Boolean).join(', ') ||
    'all use'
  const caps = [
    q.characters !== null ? `${q.used.characters}/${q.characters} characters` : '',
    q.audio_seconds !== null ? `${q.used.audio_seconds}/${q.audio_seconds} s audio` : '',
  ]
    .filter(Boolean)
    .join(', ')
  return `${q.id}  ${who}  per ${q.period}: ${caps} (renews ${q.period_ends})`
}
