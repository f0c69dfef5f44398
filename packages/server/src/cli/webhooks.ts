import { VoxgateError } from '@voxgate/protocol'
import { cliOrigin } from '../audit/origin.ts'
import { systemClock } from '../clock.ts'
import { DEFAULT_DATA_DIR } from '../config.ts'
import { openStore } from '../store/open.ts'
import { WebhookAdmin } from '../webhooks/admin.ts'
import { WEBHOOK_EVENT_TYPES } from '../webhooks/events.ts'
import { WebhookCreate } from '../webhooks/schema.ts'
import { UsageError } from './args.ts'
import type { Io } from './io.ts'
import { STORE_OPTIONS } from './option-table.ts'
import { optionsHelp, resolveOptions } from './options.ts'

export const WEBHOOKS_HELP = `Usage: voxgate webhooks <add|list|remove|deliveries> [options]

  webhooks add <https-url> --events E1,E2 [--webhook-allow-private] [--json]
      send these events, signed (Standard Webhooks), to the URL; prints its secret once.
      Events: ${WEBHOOK_EVENT_TYPES.join(', ')}
  webhooks list [--json]              every webhook: id, URL, events
  webhooks remove <id>                remove a webhook (its pending deliveries too)
  webhooks deliveries <id> [--json]   its latest 100 deliveries: event, attempts, status, next attempt

Running servers deliver from the store's outbox; --webhook-allow-private (development only) lets a
URL reach this machine or a private network, and use http://.

Options:
${optionsHelp(STORE_OPTIONS)}
  -h, --help   this help`

export async function webhooksCommand(argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv
  if (sub === undefined || sub === '--help' || sub === '-h') {
    io.out(WEBHOOKS_HELP)
    return sub === undefined ? 2 : 0
  }
  const local = {
    events: { type: 'string' },
    'webhook-allow-private': { type: 'boolean' },
    json: { type: 'boolean' },
  } as const
  const { config, values, positionals, help } = resolveOptions(STORE_OPTIONS, rest, io.env, local, true)
  if (help) {
    io.out(WEBHOOKS_HELP)
    return 0
  }
  if (!['add', 'list', 'remove', 'deliveries'].includes(sub)) throw new UsageError(`unknown webhooks command: ${sub}`)
  const wanted = sub === 'list' ? 0 : 1
  if (positionals.length !== wanted)
    throw new UsageError(
      wanted === 0
        ? `unexpected argument: ${positionals[0]}`
        : `webhooks ${sub} takes one ${sub === 'add' ? 'URL' : 'webhook id'}`,
    )
  const store = await openStore({ ...config, dataDir: config.dataDir ?? DEFAULT_DATA_DIR })
  const admin = new WebhookAdmin(store, systemClock, { allowPrivate: values['webhook-allow-private'] === true })
  try {
    switch (sub) {
      case 'add': {
        const parsed = WebhookCreate.safeParse({
          url: positionals[0],
          events: typeof values.events === 'string' ? values.events.split(',').map((e) => e.trim()) : undefined,
        })
        if (!parsed.success) {
          const issue = parsed.error.issues[0]
          throw new UsageError(`--${String(issue?.path[0] ?? 'events')}: ${issue?.message ?? 'is invalid'}`)
        }
        const created = await admin.add(parsed.data, cliOrigin()).catch((err: unknown) => {
          throw err instanceof VoxgateError ? new UsageError(err.message.replace('Invalid request body: ', '')) : err
        })
        io.out(
          values.json
            ? JSON.stringify(created)
            : `Added webhook ${created.id} for ${created.events.join(', ')}. Its secret is shown only this once:\n\n  ${created.secret}\n`,
        )
        return 0
      }
      case 'list': {
        const hooks = await admin.list({ masked: false })
        io.out(
          values.json
            ? JSON.stringify(hooks)
            : hooks.length === 0
              ? 'No webhooks.'
              : hooks.map((h) => `${h.id}  ${h.url}  [${h.events.join(',')}]  created ${h.created_at}`).join('\n'),
        )
        return 0
      }
      case 'remove': {
        await admin.remove(positionals[0]!, cliOrigin())
        io.out(`Removed webhook ${positionals[0]}`)
        return 0
      }
      default: {
        const rows = await admin.deliveries(positionals[0]!)
        io.out(
          values.json
            ? JSON.stringify(rows)
            : rows.length === 0
              ? 'No deliveries.'
              : rows
                  .map(
                    (d) =>
                      `${d.event_id}  ${d.type}  attempt ${d.attempt}  ${d.delivered_at ? `delivered ${d.delivered_at}` : d.next_attempt_at ? `next ${d.next_attempt_at}` : 'gave up'}${d.error ? `  (${d.error})` : ''}`,
                  )
                  .join('\n'),
        )
        return 0
      }
    }
  } catch (err) {
    if (err instanceof VoxgateError && err.code === 'not_found') {
      io.err(`voxgate: no webhook has the id ${positionals[0]}`)
      return 1
    }
    throw err
  } finally {
    await store.close()
  }
}
