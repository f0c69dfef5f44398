import { randomBytes, randomUUID } from 'node:crypto'

/** Crockford-free, URL-safe random ids; `prefix` says what the id names. */
export function randomId(prefix: string, bytes = 12): string {
  return `${prefix}_${randomBytes(bytes).toString('base64url')}`
}

export const requestId = (): string => randomUUID()
