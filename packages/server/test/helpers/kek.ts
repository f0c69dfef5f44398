import { randomBytes } from 'node:crypto'

/** A key-encryption key for tests, as `openssl rand -base64 32` prints one. */
export const newKek = (): string => randomBytes(32).toString('base64')

/** The key-encryption key test servers share unless a test gives its own, so servers on one schema agree. */
export const TEST_KEK = newKek()
