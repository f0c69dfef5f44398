import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs'
import Database from 'better-sqlite3'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { openStore } from '../../src/store/open.ts'
import { storeContract } from './contract/index.ts'

const folders: string[] = []
after(() => {
  for (const f of folders) rmSync(f, { recursive: true, force: true })
})

storeContract('SQLite (embedded default)', async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'voxgate-store-'))
  folders.push(dataDir)
  return openStore({ dataDir })
})

test('a store made before the voice-changer ledger column gets it on open, its rows kept', async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'voxgate-store-'))
  folders.push(dataDir)
  const file = path.join(dataDir, 'voxgate.db')
  closeSync(openSync(file, 'w', 0o600))
  const old = new Database(file)
  old.exec(`CREATE TABLE usage_ledger (day TEXT NOT NULL, key_id TEXT NOT NULL, sub TEXT NOT NULL, characters INTEGER NOT NULL, audio_ms_produced INTEGER NOT NULL,
    audio_ms_transcribed INTEGER NOT NULL, streams INTEGER NOT NULL, PRIMARY KEY (day, key_id, sub));
    INSERT INTO usage_ledger VALUES ('2026-11-01', 'key_1', '', 5, 0, 0, 1);`)
  old.close()
  const store = await openStore({ dataDir })
  try {
    await store.settleUsage({
      day: '2026-11-01',
      keyId: 'key_1',
      sub: null,
      characters: 0,
      audioMsProduced: 0,
      audioMsTranscribed: 0,
      audioMsVoiceChanged: 250,
      streams: 1,
    })
    const [row] = await store.queryUsage({ from: '2026-11-01', to: '2026-11-01' })
    assert.deepEqual([row!.characters, row!.audioMsVoiceChanged, row!.streams], [5, 250, 2])
  } finally {
    await store.close()
  }
})

test('keys in a store made before scopes existed keep full power (admin) and no policy', async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'voxgate-store-'))
  folders.push(dataDir)
  const file = path.join(dataDir, 'voxgate.db')
  closeSync(openSync(file, 'w', 0o600))
  const old = new Database(file)
  old.exec(`CREATE TABLE api_keys (id TEXT PRIMARY KEY, name TEXT NOT NULL, hash TEXT NOT NULL UNIQUE, prefix TEXT NOT NULL,
    created_at INTEGER NOT NULL, last_used_at INTEGER, revoked_at INTEGER);
    INSERT INTO api_keys (id, name, hash, prefix, created_at) VALUES ('key_old', 'old', 'h-old', 'sk_vx_ab', 1);`)
  old.close()
  const store = await openStore({ dataDir })
  try {
    const key = await store.findApiKeyByHash('h-old')
    assert.deepEqual([key?.scopes, key?.policy], [['admin'], null])
  } finally {
    await store.close()
  }
})
