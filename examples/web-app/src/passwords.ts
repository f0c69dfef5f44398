import { hash, verify } from '@node-rs/argon2'

/** `Algorithm.Argon2id` (a const enum, unusable under verbatimModuleSyntax). */
const ARGON2ID = 2

/** OWASP's argon2id baseline: 19 MiB, 2 passes, 1 lane. */
const PARAMS = { algorithm: ARGON2ID, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const

export const PASSWORD_MIN_CHARS = 8
export const PASSWORD_MAX_CHARS = 256

export function hashPassword(password: string): Promise<string> {
  return hash(password, PARAMS)
}

/** A hash of nothing, verified against when the email is unknown so both paths cost the same. */
let decoy: Promise<string> | undefined

export async function verifyPassword(storedHash: string | undefined, password: string): Promise<boolean> {
  decoy ??= hashPassword('decoy password, never matches')
  const target = storedHash ?? (await decoy)
  const ok = await verify(target, password).catch(() => false)
  return ok && storedHash !== undefined
}
