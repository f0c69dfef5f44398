/**
 * The ledger batches the settlements of streams that end in the same turn of the event loop
 * (store/sqlite/settlement-batch.ts): no row may be lost to it. After a clean shutdown every stream is in the store; a read of the ledger
 * (`GET /usage`) writes what waits first, and what it showed survives a `kill -9`; a reservation sees
 * the refunds made before it.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { after, test } from 'node:test'
import { createKey } from '../../src/keys/create-key.ts'
import { openStore } from '../../src/store/open.ts'
import { eventually } from '../helpers/controlled-speech.ts'
import { TEST_SPEECH_WORKERS } from '../helpers/cli.ts'
import { bearer, call } from '../helpers/http.ts'
import { ttsBody, voiceIds } from '../helpers/security.ts'
import { startTestServer, testTls } from '../helpers/server.ts'

const BIN = path.resolve(import.meta.dirname, '../../bin/voxgate.mjs')
const TEXT = 'Hello there, how are you?'
const STREAMS = 40
const folders: string[] = []
const folder = () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'voxgate-ledger-'))
  folders.push(dir)
  return dir
}
after(() => {
  for (const f of folders) rmSync(f, { recursive: true, force: true })
})

const today = () => new Date().toISOString().slice(0, 10)

/** `STREAMS` short streams at once, each answered 200 with its audio. */
async function speakAll(url: string, apiKey: string): Promise<void> {
  const [voice] = (await voiceIds(url, apiKey, 1)) as [string]
  const answers = await Promise.all(
    Array.from({ length: STREAMS }, () =>
      call(url, '/tts/bytes', { headers: bearer(apiKey), body: ttsBody(voice, TEXT) }),
    ),
  )
  assert.deepEqual(new Set(answers.map((a) => a.status)), new Set([200]))
}

async function ledgerInFolder(dataDir: string): Promise<{ streams: number; characters: number }> {
  const store = await openStore({ dataDir })
  try {
    const rows = await store.queryUsage({ from: today(), to: today() })
    return {
      streams: rows.reduce((n, r) => n + r.streams, 0),
      characters: rows.reduce((n, r) => n + r.characters, 0),
    }
  } finally {
    await store.close()
  }
}

test('after a clean shutdown, every stream of a burst is in the ledger', async () => {
  const dataDir = folder()
  const t = await startTestServer({ dataDir })
  await speakAll(t.url, t.apiKey)
  await t.close({ keepData: true })
  assert.deepEqual(await ledgerInFolder(dataDir), { streams: STREAMS, characters: STREAMS * TEXT.length })
})

test('what GET /usage showed survives kill -9 of the server process', async () => {
  const dataDir = folder()
  const seed = await openStore({ dataDir })
  const key = await createKey(seed, 'test', Date.now(), { scopes: ['admin'] })
  await seed.close()
  const tls = testTls()
  const args = ['serve', '--port', '0', '--data', dataDir, '--tls-cert', tls.tlsCertFile, '--tls-key', tls.tlsKeyFile]
  const child = spawn(process.execPath, [BIN, ...args, '--log-level', 'warn', ...TEST_SPEECH_WORKERS], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout.on('data', () => undefined)
  child.stderr.on('data', (d: Buffer) => {
    out += d
  })
  const exited = new Promise((resolve) => child.once('exit', resolve))
  try {
    await eventually(() => /listening on https:\/\//.test(out), 'the server listens', 60_000)
    const url = /listening on (https:\/\/\S+)/.exec(out)![1]!
    await speakAll(url, key.key)
    const usage = await call(url, `/usage?from=${today()}&to=${today()}`, { method: 'GET', headers: bearer(key.key) })
    assert.equal(usage.status, 200)
    // The last streams' settlements may still wait in the batch: the read writes them first.
    assert.equal(usage.json.totals.streams, STREAMS)
  } finally {
    child.kill('SIGKILL')
    await exited
  }
  assert.deepEqual(await ledgerInFolder(dataDir), { streams: STREAMS, characters: STREAMS * TEXT.length })
})

test('a reservation and a read see a refund that still waits in the batch', async () => {
  const store = await openStore({ dataDir: folder() })
  try {
    const expires = Date.now() + 600_000
    const d = { day: today(), keyId: 'key_r', sub: null, characters: 10, audioMsProduced: 0, audioMsTranscribed: 0 }
    assert.deepEqual(await store.reserveCharacters('tok_r', 100, 100, expires), { granted: true, used: 100 })
    // The first settlement is written at once; the second, right after it, waits for the interval.
    await store.settleUsage({ ...d, streams: 1 })
    const settled = store.settleUsage({ ...d, streams: 1 }, { keys: ['tok_r'], characters: 60, audioMs: 0 })
    assert.deepEqual(await store.reserveCharacters('tok_r', 50, 100, expires), { granted: true, used: 90 })
    assert.equal(await store.usedCharacters('tok_r'), 90)
    await settled
    const [row] = await store.queryUsage({ from: today(), to: today() })
    assert.equal(row?.streams, 2)
  } finally {
    await store.close()
  }
})
