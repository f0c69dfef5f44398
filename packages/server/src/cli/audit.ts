import {
  AUDIT_PAGE_DEFAULT,
  AUDIT_PAGE_MAX,
  AuditQuery,
  auditView,
  encodeCursor,
  toAuditFilter,
} from '../audit/query.ts'
import { DEFAULT_DATA_DIR } from '../config.ts'
import { openStore } from '../store/open.ts'
import { UsageError } from './args.ts'
import type { Io } from './io.ts'
import { STORE_OPTIONS } from './option-table.ts'
import { optionsHelp, resolveOptions } from './options.ts'

export const AUDIT_HELP = `Usage: voxgate audit [--from T] [--to T] [--action A] [--key-id ID] [--target-id ID] [--limit N] [--cursor C] [--json]

The audit log, as GET /audit answers it: one row per change (keys, quotas, revocations, webhooks,
signing keys), newest first, with who made it (an API key or the CLI). T is RFC 3339 or a UTC date
(YYYY-MM-DD; a date-only --to includes its whole day); --key-id is the acting key; --limit is 1 to
${AUDIT_PAGE_MAX} (default ${AUDIT_PAGE_DEFAULT}); --cursor continues from the previous page's next cursor.

Options:
${optionsHelp(STORE_OPTIONS)}
  -h, --help   this help`

export async function auditCommand(argv: string[], io: Io): Promise<number> {
  const local = {
    from: { type: 'string' },
    to: { type: 'string' },
    action: { type: 'string' },
    'key-id': { type: 'string' },
    'target-id': { type: 'string' },
    limit: { type: 'string' },
    cursor: { type: 'string' },
    json: { type: 'boolean' },
  } as const
  const { config, values, help } = resolveOptions(STORE_OPTIONS, argv, io.env, local)
  if (help) {
    io.out(AUDIT_HELP)
    return 0
  }
  const given = (flag: string, field: string) => (values[flag] !== undefined ? { [field]: values[flag] } : {})
  const parsed = AuditQuery.safeParse({
    ...given('from', 'from'),
    ...given('to', 'to'),
    ...given('action', 'action'),
    ...given('key-id', 'key_id'),
    ...given('target-id', 'target_id'),
    ...given('limit', 'limit'),
    ...given('cursor', 'cursor'),
  })
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new UsageError(`--${String(issue?.path[0] ?? 'option').replace('_', '-')}: ${issue?.message ?? 'is invalid'}`)
  }
  const store = await openStore({ ...config, dataDir: config.dataDir ?? DEFAULT_DATA_DIR })
  try {
    const page = await store.queryAudit(toAuditFilter(parsed.data))
    const rows = page.entries.map(auditView)
    const next = page.next && encodeCursor(page.next)
    if (values.json) io.out(JSON.stringify({ data: rows, next_cursor: next }))
    else {
      if (rows.length === 0) io.out('No audit rows.')
      for (const r of rows) {
        const actor = r.actor.key_id ? `${r.actor.type}:${r.actor.key_id}` : r.actor.type
        io.out(
          `${r.at}  ${r.action}  by ${actor}  on ${r.target.type}:${r.target.id}  ${JSON.stringify(r.details)}  request ${r.request_id}${r.ip ? ` from ${r.ip}` : ''}`,
        )
      }
      if (next) io.out(`More: voxgate audit --cursor ${next} (with the same filters)`)
    }
    return 0
  } finally {
    await store.close()
  }
}
