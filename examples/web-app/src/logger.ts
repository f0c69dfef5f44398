import type { AppKitLogger } from '@voxgate/app-kit'

/**
 * A tiny pino-shaped JSON logger. The app logs user ids, routes and statuses; tokens, passwords,
 * API keys and cookies are never passed to it.
 */
export function createLogger(
  write: (line: string) => void,
): AppKitLogger & { error(fields: Record<string, unknown>, message: string): void } {
  const at = (level: string) => (fields: Record<string, unknown>, message: string) => {
    write(JSON.stringify({ time: new Date().toISOString(), level, msg: message, ...fields }))
  }
  return { info: at('info'), warn: at('warn'), error: at('error') }
}
