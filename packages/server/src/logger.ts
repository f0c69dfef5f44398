import pino, { type DestinationStream, type Logger } from 'pino'

/**
 * Structured JSON logs. Routes log ids (request, key, `sub`), never credentials; redaction is the
 * second line of defence for anything that slips into a log object anyway.
 */
export const REDACT_PATHS = [
  'token', 'key', 'access_token', 'api_key', 'cookie', 'authorization',
  '*.token', '*.key', '*.access_token', '*.api_key', '*.cookie', '*.authorization',
  'headers.authorization', 'headers.cookie', 'headers["x-api-key"]', 'headers["set-cookie"]',
  'req.headers.authorization', 'req.headers.cookie', 'req.headers["x-api-key"]', 'res.headers["set-cookie"]',
  // Node attaches the raw request bytes (headers included) to HTTP parse errors.
  'err.rawPacket', '*.rawPacket',
]

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino({
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { service: 'voxgate' },
    timestamp: pino.stdTimeFunctions.isoTime,
  }, destination)
}
