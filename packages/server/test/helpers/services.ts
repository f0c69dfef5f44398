import { existsSync } from 'node:fs'
import net from 'node:net'
import path from 'node:path'

/**
 * What a test file needs from the machine beyond npm, checked once when the file loads: a file whose
 * service is missing fails at once with one line naming the service and how to start it, instead
 * of hanging in a client that retries forever (node-redis) or failing deep inside a test.
 */
export interface TestService {
  /** As a person calls it: `PostgreSQL`, `Redis`. */
  name: string
  /** Where the tests look for it (no password: it is shown). */
  host: string
  port: number
  /** The one instruction that makes it reachable. */
  howToStart: string
}

/** A TCP connect either answers or is refused at once on loopback; a silent host gets this long. */
const PROBE_TIMEOUT_MS = 3000

/** A missing prerequisite, its message the one line to show. */
export class MissingService extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'MissingService'
  }
}

/**
 * At a test file's top level: when `check` finds its service missing, the file ends at once with
 * the one line on stderr (a thrown error would come wrapped in Node's uncaught-exception report).
 */
export async function needed(check: () => void | Promise<void>): Promise<void> {
  try {
    await check()
  } catch (err) {
    if (!(err instanceof MissingService)) throw err
    process.stderr.write(`${err.message}\n`)
    process.exit(1)
  }
}

/** The host and port of a `postgres://` or `redis://` URL, with the scheme's default port. */
export function serviceAt(url: string, defaultPort: number): { host: string; port: number } {
  const u = new URL(url)
  return { host: u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1', port: Number(u.port || defaultPort) }
}

/** Resolves once `service` accepts a TCP connection; throws MissingService within PROBE_TIMEOUT_MS otherwise. */
export async function requireService(service: TestService): Promise<void> {
  const failure = await new Promise<string | undefined>((resolve) => {
    const socket = net.connect({ host: service.host, port: service.port })
    socket.setTimeout(PROBE_TIMEOUT_MS, () => {
      // After the poll phase: when the loop was busy (other modules loading), a refusal already
      // waiting is reported as what it is, not as a timeout.
      setImmediate(() => {
        socket.destroy()
        resolve(`no answer in ${PROBE_TIMEOUT_MS / 1000} s`)
      })
    })
    socket.once('connect', () => {
      socket.destroy()
      resolve(undefined)
    })
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message))
  })
  if (failure === undefined) return
  const at = service.host.includes(':') ? `[${service.host}]:${service.port}` : `${service.host}:${service.port}`
  throw new MissingService(`${service.name} is not reachable at ${at} (${failure}); ${service.howToStart}`)
}

/** Throws MissingService when `command` is on no PATH entry (a spawn would fail with a bare ENOENT). */
export function requireCommand(command: string, howToInstall: string): void {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)
  if (dirs.some((dir) => existsSync(path.join(dir, command)))) return
  throw new MissingService(`${command} is not installed (not on PATH); ${howToInstall}`)
}
