import { hash, verify } from '@node-rs/argon2'

/** `Algorithm.Argon2id` (a const enum, unusable under verbatimModuleSyntax). */
const ARGON2ID = 2

/** OWASP's argon2id baseline: 19 MiB, 2 passes, 1 lane. */
const PARAMS = { algorithm: ARGON2ID, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const

export const PASSWORD_MIN_CHARS = 8
export const PASSWORD_MAX_CHARS = 256

/** How passwords become stored hashes and are checked against them: the app's one way to do either. */
export interface PasswordHasher {
  hash(password: string): Promise<string>
  /** False for a wrong password and for a hash it cannot read; never throws for either. */
  verify(storedHash: string, password: string): Promise<boolean>
}

/** argon2id with OWASP's parameters: the default `passwordHasher`. */
export const argon2idHasher: PasswordHasher = {
  hash: (password) => hash(password, PARAMS),
  verify: (storedHash, password) => verify(storedHash, password).catch(() => false),
}

/** Hashing for sign-up and checking for sign-in, each exactly one hasher call whatever the account. */
export interface Passwords {
  hash(password: string): Promise<string>
  /** True only when the account exists and the password is its own. */
  verify(storedHash: string | undefined, password: string): Promise<boolean>
}

/**
 * `hasher` with a decoy hash, made before the first request: an unknown email is checked against the
 * decoy, so it costs one verification like a known one (and the first one no extra hash).
 */
export async function passwordsWith(hasher: PasswordHasher): Promise<Passwords> {
  const decoy = await hasher.hash('decoy password, never matches')
  return {
    hash: (password) => hasher.hash(password),
    async verify(storedHash, password) {
      const ok = await hasher.verify(storedHash ?? decoy, password)
      return ok && storedHash !== undefined
    },
  }
}
