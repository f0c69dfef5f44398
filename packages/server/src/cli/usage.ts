import { DEFAULT_DATA_DIR } from '../config.ts'
import { openStore } from '../store/open.ts'
import { GROUPS, UsageQuery, usageReport, type UsageReport } from '../usage/report.ts'
import { UsageError } from './args.ts'
import type { Io } from './io.ts'
import { STORE_OPTIONS } from './option-table.ts'
import { optionsHelp, resolveOptions } from './options.ts'

export const USAGE_HELP = `Usage: voxgate usage [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--group-by day,sub,key] [--sub S] [--key-id ID] [--json]

What the usage ledger holds, as GET /usage answers it: characters synthesized (and the parts of them
spoken by the gateway's local fallback, chars_fallback, and sent from the TTS cache, chars_cached),
seconds of audio produced and transcribed, and streams, per UTC day, end-user (sub) and API key. Dates are inclusive;
the default is the 30 days up to today; --group-by combines ${GROUPS.join(', ')} (default day).

Options:
${optionsHelp(STORE_OPTIONS)}
  -h, --help   this help`

export async function usageCommand(argv: string[], io: Io): Promise<number> {
  const local = {
    from: { type: 'string' },
    to: { type: 'string' },
    'group-by': { type: 'string' },
    sub: { type: 'string' },
    'key-id': { type: 'string' },
    json: { type: 'boolean' },
  } as const
  const { config, values, help } = resolveOptions(STORE_OPTIONS, argv, io.env, local)
  if (help) {
    io.out(USAGE_HELP)
    return 0
  }
  const parsed = UsageQuery.safeParse({
    ...(values.from !== undefined && { from: values.from }),
    ...(values.to !== undefined && { to: values.to }),
    ...(values['group-by'] !== undefined && { group_by: values['group-by'] }),
    ...(values.sub !== undefined && { sub: values.sub }),
    ...(values['key-id'] !== undefined && { key_id: values['key-id'] }),
  })
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new UsageError(`--${String(issue?.path[0] ?? 'option').replace('_', '-')} ${issue?.message ?? 'is invalid'}`)
  }
  const store = await openStore({ ...config, dataDir: config.dataDir ?? DEFAULT_DATA_DIR })
  try {
    let report: UsageReport
    try {
      report = await usageReport(store, parsed.data, Date.now())
    } catch (err) {
      if (err instanceof RangeError) throw new UsageError(err.message)
      throw err
    }
    io.out(values.json ? JSON.stringify(report) : table(report))
    return 0
  } finally {
    await store.close()
  }
}

/** The report as an aligned table, totals last. */
function table(r: UsageReport): string {
  const head = [
    ...r.group_by.map((g) => (g === 'key' ? 'key_id' : g)),
    'characters',
    // Parts of `characters` (gateway mode's fallback, and TTS cache hits), as GET /usage reports them.
    'chars_fallback',
    'chars_cached',
    'audio_s_out',
    'audio_s_in',
    'audio_s_vc',
    'streams',
    'refused',
  ]
  const refused = (row: Record<string, unknown>) =>
    String(Object.values(row.refused as Record<string, number>).reduce((a, b) => a + b, 0))
  const cells = (row: Record<string, unknown>, label?: string) => [
    ...r.group_by.map((g, i) =>
      label !== undefined ? (i === 0 ? label : '') : String(row[g === 'key' ? 'key_id' : g] ?? '(none)'),
    ),
    String(row.characters),
    String(row.characters_fallback),
    String(row.characters_cached),
    String(row.audio_seconds_produced),
    String(row.audio_seconds_transcribed),
    String(row.audio_seconds_voice_changed),
    String(row.streams),
    refused(row),
  ]
  const lines = [
    head,
    ...r.data.map((row) => cells(row as unknown as Record<string, unknown>)),
    cells(r.totals as unknown as Record<string, unknown>, 'total'),
  ]
  const widths = head.map((_, i) => Math.max(...lines.map((l) => l[i]!.length)))
  const fmt = (l: string[]) =>
    l.map((c, i) => (i < r.group_by.length ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')
  return [`usage ${r.from} .. ${r.to} (UTC)`, fmt(head), ...lines.slice(1).map(fmt)].join('\n')
}
