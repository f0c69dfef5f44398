import { argon2idHasher, type PasswordHasher } from '../../src/passwords.ts'

/** The app's real argon2id hasher, counting its calls: "exactly one hash" without timing anything. */
export function countingHasher(): { hasher: PasswordHasher; calls: { hash: number; verify: number } } {
  const calls = { hash: 0, verify: 0 }
  const hasher: PasswordHasher = {
    hash(password) {
      calls.hash += 1
      return argon2idHasher.hash(password)
    },
    verify(storedHash, password) {
      calls.verify += 1
      return argon2idHasher.verify(storedHash, password)
    },
  }
  return { hasher, calls }
}
