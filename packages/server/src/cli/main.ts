import { processIo, type Io } from './io.ts'
import { UsageError } from './args.ts'
import { StoreError } from '../store/errors.ts'
import { SERVER_VERSION } from '../version.ts'

export const MAIN_HELP = `Usage: voxgate <command> [options]

Commands:
  serve         run the voice server
  keys          create, list, rotate and revoke API keys; rotate the signing key
  usage         characters, audio and streams by day, end-user and API key (the usage ledger)
  quotas        cap what an end-user or an API key may use per day or month, across tokens
  webhooks      signed webhooks: quota thresholds, key changes (add, list, remove, deliveries)
  audit         the audit log: every change to keys, quotas, revocations, webhooks and signing keys
  console-link  print a one-time link that signs in to the operator console (serve --console)

Run voxgate <command> --help for a command's options; voxgate --version prints the version.`

type Command = (argv: string[], io: Io) => Promise<number>

/**
 * Each command's module, loaded when it runs: `keys`, `usage` and `quotas` never load the HTTP
 * server and the speech engines, which are most of a start's load time.
 */
const COMMANDS: Record<string, () => Promise<Command>> = {
  serve: async () => (await import('./serve.ts')).serveCommand,
  keys: async () => (await import('./keys.ts')).keysCommand,
  usage: async () => (await import('./usage.ts')).usageCommand,
  quotas: async () => (await import('./quotas.ts')).quotasCommand,
  webhooks: async () => (await import('./webhooks.ts')).webhooksCommand,
  audit: async () => (await import('./audit.ts')).auditCommand,
  'console-link': async () => (await import('./console-link.ts')).consoleLinkCommand,
}

/** Runs one CLI command; returns the exit code (2 for usage errors, 1 for failures). */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const [command, ...rest] = argv
  try {
    switch (command) {
      case 'serve':
      case 'keys':
      case 'usage':
      case 'quotas':
      case 'webhooks':
      case 'audit':
      case 'console-link':
        return await (await COMMANDS[command]!())(rest, io)
      case '--version':
      case '-v':
      case 'version':
        io.out(SERVER_VERSION)
        return 0
      case '--help':
      case '-h':
      case 'help':
        io.out(MAIN_HELP)
        return 0
      case undefined:
        io.err(MAIN_HELP)
        return 2
      default:
        throw new UsageError(`unknown command: ${command}`)
    }
  } catch (err) {
    if (err instanceof UsageError || (err instanceof StoreError && err.code === 'bad_store_url')) {
      io.err(`voxgate: ${err.message} (see voxgate --help)`)
      return 2
    }
    // One line, whatever the cause: a start failure must be readable in a log collector's single row.
    io.err(`voxgate: ${(err instanceof Error ? err.message : String(err)).replace(/\s*\n\s*/g, ' ')}`)
    return 1
  }
}
