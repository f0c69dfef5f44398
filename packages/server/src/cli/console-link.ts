import { DEFAULT_DATA_DIR } from '../config.ts'
import { ConsoleSessions, CONSOLE_LINK_TTL_MS } from '../auth/console-sessions.ts'
import { openStore } from '../store/open.ts'
import { UsageError } from './args.ts'
import type { Io } from './io.ts'
import { SERVE_OPTIONS, STORE_OPTIONS } from './option-table.ts'
import { optionsHelp, resolveOptions } from './options.ts'

/** `serve`'s own address when nothing else is said. */
const DEFAULT_URL = 'https://127.0.0.1:8443'
const OPTIONS = [...STORE_OPTIONS, ...SERVE_OPTIONS.filter((o) => o.flag === 'public-url')]

export const CONSOLE_LINK_HELP = `Usage: voxgate console-link [--public-url URL] [options]

Prints a one-time link that signs in to the operator console (voxgate serve --console) as admin:
<url>/console/login#code=…, valid ${CONSOLE_LINK_TTL_MS / 60_000} minutes, usable once. The code is in the
fragment, which browsers never send to a server or put in a Referer. The URL defaults to ${DEFAULT_URL}.

Options:
${optionsHelp(OPTIONS)}
  -h, --help                    this help`

export async function consoleLinkCommand(argv: string[], io: Io): Promise<number> {
  const { config, positionals, help } = resolveOptions(OPTIONS, argv, io.env, {}, true)
  if (help) {
    io.out(CONSOLE_LINK_HELP)
    return 0
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument: ${positionals[0]}`)
  const base = config.publicUrl ?? DEFAULT_URL
  if (!/^https:\/\/[^/?#]+\/?$/.test(base)) throw new UsageError('--public-url must be https://HOST[:PORT]')
  const store = await openStore({ ...config, dataDir: config.dataDir ?? DEFAULT_DATA_DIR })
  try {
    const code = await ConsoleSessions.createLoginCode(store, Date.now())
    io.out(`${base.replace(/\/$/, '')}/console/login#code=${code}`)
    return 0
  } finally {
    await store.close()
  }
}
