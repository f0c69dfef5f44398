import { DEFAULT_DATA_DIR, parseConfig, type ServerConfigInput } from '../config.ts'
import { UsageError } from './args.ts'
import type { Io } from './io.ts'
import { handOverFirstKey } from './first-key.ts'
import { SERVE_OPTIONS } from './option-table.ts'
import { optionsHelp, resolveOptions } from './options.ts'

export const SERVE_HELP = `Usage: voxgate serve [options]

Serves the voice API over HTTPS. Without --tls-cert/--tls-key a development CA and certificate are
created in the data folder (trust dev-ca.pem once to use it from a browser).

Every option may come from the environment variable shown instead (flags win); repeatable options
take a comma-separated list there, switches 1 or true.

Options:
${optionsHelp(SERVE_OPTIONS)}
  -h, --help                    this help`

export async function serveCommand(argv: string[], io: Io): Promise<number> {
  const { config, help } = resolveOptions(SERVE_OPTIONS, argv, io.env)
  if (help) {
    io.out(SERVE_HELP)
    return 0
  }
  const input: ServerConfigInput = { ...config, dataDir: config.dataDir ?? DEFAULT_DATA_DIR }
  // Invalid option values surface as TypeErrors (the config schema, the upstream URL): a usage mistake.
  const asUsageError = (err: unknown): never => {
    throw err instanceof TypeError ? new UsageError(err.message) : err
  }
  // Checked before the server's modules load, so help and a mistyped option answer at once.
  try {
    parseConfig(input)
  } catch (err) {
    asUsageError(err)
  }
  // From here on a SIGTERM or SIGINT is a graceful stop, whenever it comes: while the server starts or
  // hands over its first key (a service manager stopping it at once), the start finishes, then it
  // closes. Installed later, a signal in between took Node's default and killed the process.
  const stopRequested = new Promise<void>((resolve) => {
    const stop = () => resolve()
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  })
  const { startServer } = await import('../server.ts')
  const server = await startServer(input).catch(asUsageError)
  // People read stderr; stdout is the log stream alone (JSON lines when piped).
  if (server.devTls) {
    io.err(
      `Using a development certificate. To trust it: NODE_EXTRA_CA_CERTS=${server.devTls.caFile} (Node), or import that file as a trusted CA in your browser.`,
    )
  }
  io.err(`voxgate listening on ${server.url}`)
  if (server.metricsUrl) io.err(`Metrics (Prometheus, plain HTTP): ${server.metricsUrl}`)
  await handOverFirstKey(server, input.dataDir, io)
  // A bug must not take the server down silently; nothing reaches here from input by design.
  process.on('unhandledRejection', (err) => server.ctx.logger.error({ err }, 'unhandled rejection'))
  await stopRequested
  await server.close()
  return 0
}
