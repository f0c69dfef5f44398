import { createRequire } from 'node:module'
import pino, { type DestinationStream, type Logger } from 'pino'

/**
 * Structured JSON logs. Routes log ids (request, key, `sub`), never credentials; redaction is the
 * second line of defence for anything that slips into a log object anyway.
 */
export const REDACT_PATHS = [
  'token',
  'key',
  'access_token',
  'api_key',
  'cookie',
  'authorization',
  '*.token',
  '*.key',
  '*.access_token',
  '*.api_key',
  '*.cookie',
  '*.authorization',
  'headers.authorization',
  'headers.cookie',
  'headers["x-api-key"]',
  'headers["set-cookie"]',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  // Node attaches the raw request bytes (headers included) to HTTP parse errors.
  'err.rawPacket',
  '*.rawPacket',
]

/** `json`: one JSON object a line (for machines); `pretty`: one readable line an event; `auto`: pretty on a terminal. */
export type LogFormat = 'auto' | 'json' | 'pretty'

/**
 * The server's logger, writing to `destination` (stdout by default). Pretty output is pino-pretty
 * run in this thread as the destination stream, so it formats what pino has already redacted.
 */
export function createLogger(level: string, destination?: DestinationStream, format: LogFormat = 'json'): Logger {
  const options = {
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { service: 'voxgate' },
    timestamp: pino.stdTimeFunctions.isoTime,
  }
  const toTerminal = destination === undefined && process.stdout.isTTY === true
  if (format === 'json' || (format === 'auto' && !toTerminal)) return pino(options, destination)
  // Required only for pretty output: JSON logs (services, tests) never load pino-pretty's modules.
  const pretty = createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty')
  return pino(
    options,
    pretty({
      destination: destination ?? 1,
      colorize: toTerminal,
      singleLine: true,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname,service',
      sync: true,
    }),
  )
}
