/**
 * Secret-bearing files (the store with its signing keys, SQLite's WAL and shared memory, TLS keys)
 * are 0600 whatever the folder's mode and the umask; at start, one that others can read, a data
 * folder others can write, or an empty store is refused with the command that fixes it.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { startServer } from '../../src/server.ts'
import { DataFileError } from '../../src/fs-safety.ts'
import { startTestServer, testTls } from '../helpers/server.ts'
import { mint } from '../helpers/http.ts'
import { createDeterministicSpeech } from '../helpers/inline-runner.ts'
import type { SpeechService } from '../../src/tts/types.ts'

/** One deterministic speech service for every server these tests start (never closed by them). */
let speech: SpeechService
before(async () => {
  speech = await createDeterministicSpeech()
})
after(() => speech.close())

// The umask of a default shell, a container or systemd: without care, new files come out 0644.
process.umask(0o022)

const folders: string[] = []
after(() => {
  for (const f of folders) rmSync(f, { recursive: true, force: true })
})
/** A data folder that already exists with `mode`, as `mkdir -p`, a volume or StateDirectory leave it. */
function existingFolder(mode: number): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'voxgate-modes-'))
  folders.push(dir)
  chmodSync(dir, mode)
  return dir
}
const modeOf = (file: string): number => statSync(file).mode & 0o777

/** Starts a server on `dataDir` and expects the refusal `code` naming `file` and `fix`. */
async function assertRefused(
  dataDir: string,
  code: string,
  fix: string,
  extra: Record<string, unknown> = {},
): Promise<void> {
  await assert.rejects(
    startServer({ dataDir, port: 0, speechWorkers: 1, logLevel: 'silent', ...testTls(), ...extra }, { speech }),
    (err: unknown) => {
      assert.ok(err instanceof DataFileError, String(err))
      assert.equal(err.code, code)
      assert.ok(err.message.endsWith(`run: ${fix}`), err.message)
      assert.ok(!err.message.includes('\n'), 'one line')
      return true
    },
  )
}

describe('files are created 0600 in an existing 0755 folder', () => {
  let dataDir: string
  let t: Awaited<ReturnType<typeof startTestServer>>
  before(async () => {
    dataDir = existingFolder(0o755)
    t = await startTestServer({ dataDir })
    await mint(t.url, t.apiKey) // a write: the WAL and shared-memory files exist while the server runs
  })
  after(() => t.close({ keepData: true }))

  test('voxgate.db, -wal and -shm are 0600', () => {
    for (const name of ['voxgate.db', 'voxgate.db-wal', 'voxgate.db-shm']) {
      const file = path.join(dataDir, name)
      assert.ok(existsSync(file), `${name} exists`)
      assert.equal(modeOf(file).toString(8), '600', name)
    }
  })

  test('the 0755 folder itself is accepted as it is', () => {
    assert.equal(modeOf(dataDir).toString(8), '755')
  })
})

describe('the development TLS key', () => {
  test('is created 0600 in a new tls folder, which is 0700', async () => {
    const dataDir = existingFolder(0o755)
    const server = await startServer({ dataDir, port: 0, speechWorkers: 1, logLevel: 'silent' }, { speech })
    await server.close()
    assert.equal(modeOf(path.join(dataDir, 'tls', 'dev-key.pem')).toString(8), '600')
    assert.equal(modeOf(path.join(dataDir, 'tls')).toString(8), '700')
  })

  test('an existing one that group can read → refused with chmod 600', async () => {
    const dataDir = existingFolder(0o700)
    const server = await startServer({ dataDir, port: 0, speechWorkers: 1, logLevel: 'silent' }, { speech })
    await server.close()
    const keyFile = path.join(dataDir, 'tls', 'dev-key.pem')
    chmodSync(keyFile, 0o640)
    await assertRefused(dataDir, 'unsafe_file_mode', `chmod 600 ${keyFile}`, {
      tlsCertFile: undefined,
      tlsKeyFile: undefined,
    })
  })

  test('a --tls-key file others can read → refused with chmod 600', async () => {
    const dataDir = existingFolder(0o700)
    const keyFile = path.join(dataDir, 'key.pem')
    writeFileSync(keyFile, readFileSync(testTls().tlsKeyFile))
    chmodSync(keyFile, 0o644)
    await assertRefused(dataDir, 'unsafe_file_mode', `chmod 600 ${keyFile}`, { tlsKeyFile: keyFile })
  })
})

describe('refusals at start', () => {
  /** A data folder holding a store made by a server that ran and stopped. */
  async function usedFolder(): Promise<string> {
    const dataDir = existingFolder(0o700)
    const t = await startTestServer({ dataDir })
    await t.close({ keepData: true })
    return dataDir
  }

  test('voxgate.db readable by others → refused, naming chmod 600 <file>', async () => {
    const dataDir = await usedFolder()
    const db = path.join(dataDir, 'voxgate.db')
    chmodSync(db, 0o644)
    await assertRefused(dataDir, 'unsafe_file_mode', `chmod 600 ${db}`)
    chmodSync(db, 0o600)
    const t = await startTestServer({ dataDir })
    await t.close({ keepData: true })
  })

  test('a left-over -wal or -shm file group can read → refused', async () => {
    for (const side of ['voxgate.db-wal', 'voxgate.db-shm']) {
      const dataDir = await usedFolder()
      const file = path.join(dataDir, side)
      writeFileSync(file, '', { mode: 0o640 })
      chmodSync(file, 0o640)
      await assertRefused(dataDir, 'unsafe_file_mode', `chmod 600 ${file}`)
    }
  })

  test('a data folder others can write → refused, naming chmod o-w <dir>', async () => {
    const dataDir = existingFolder(0o777)
    await assertRefused(dataDir, 'unsafe_folder_mode', `chmod o-w ${dataDir}`)
    assert.ok(!existsSync(path.join(dataDir, 'voxgate.db')), 'nothing was created in it')
  })

  test('a path with a space is quoted in the command', async () => {
    const parent = existingFolder(0o700)
    const dataDir = path.join(parent, 'my data')
    mkdirSync(dataDir, { mode: 0o777 })
    chmodSync(dataDir, 0o777)
    await assertRefused(dataDir, 'unsafe_folder_mode', `chmod o-w '${dataDir}'`)
  })

  test('an empty voxgate.db → refused; no new key set is written into it', async () => {
    const dataDir = existingFolder(0o700)
    const db = path.join(dataDir, 'voxgate.db')
    writeFileSync(db, '', { mode: 0o600 })
    await assertRefused(dataDir, 'empty_store', `rm ${db}`)
    assert.equal(statSync(db).size, 0)
  })
})
