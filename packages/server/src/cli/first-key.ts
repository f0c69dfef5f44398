import { readFileSync, rmSync } from 'node:fs'
import path from 'node:path'
import { hashApiKey } from '../auth/api-keys.ts'
import { writePrivateFile } from '../fs-safety.ts'
import type { VoxgateServer } from '../server.ts'
import type { Io } from './io.ts'
import { createKey } from '../keys/create-key.ts'

/** The file in the data folder that holds the first API key until it is first used. */
export const FIRST_KEY_FILE = 'first-api-key'

/**
 * On a store without API keys, creates one once the server listens (a failed start creates none),
 * and hands it over: on a terminal it is printed to stderr; otherwise (a service manager, a pipe,
 * a log collector) it goes to `first-api-key` in the data folder, mode 0600, and only that path is
 * printed, so the key never enters a log stream. The file is deleted when the key is first used;
 * until then every start prints its path again.
 */
export async function handOverFirstKey(server: VoxgateServer, dataDir: string, io: Io): Promise<void> {
  const file = path.join(dataDir, FIRST_KEY_FILE)
  const waiting = await keyStillWaiting(server, file)
  if (waiting) {
    io.err(`The first API key has not been used yet; it is in ${file}`)
    return deleteOnFirstUse(server, file, waiting)
  }
  if ((await server.ctx.store.listApiKeys()).length > 0) return
  const created = await createKey(server.ctx.store, 'first', server.ctx.clock.now())
  if (io.errIsTerminal) {
    io.err(`First run: created API key ${created.id}. It is shown only this once:\n\n  ${created.key}\n`)
    return
  }
  writePrivateFile(file, `${created.key}\n`)
  io.err(`First run: created API key ${created.id}; it is in ${file} (mode 0600) until its first use`)
  deleteOnFirstUse(server, file, created.id)
}

/** The id of the key in `file` when that key exists, is not revoked and was never used; else deletes the file. */
async function keyStillWaiting(server: VoxgateServer, file: string): Promise<string | undefined> {
  let key: string
  try {
    key = readFileSync(file, 'utf8').trim()
  } catch {
    return undefined
  }
  const record = await server.ctx.store.findApiKeyByHash(hashApiKey(key))
  if (record && record.revokedAt === null && record.lastUsedAt === null) return record.id
  rmSync(file, { force: true })
  return undefined
}

function deleteOnFirstUse(server: VoxgateServer, file: string, keyId: string): void {
  server.ctx.authenticator.onKeyUsed((used) => {
    if (used === keyId) rmSync(file, { force: true })
  })
}
