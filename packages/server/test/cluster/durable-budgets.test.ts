/**
 * A token's characters budget is kept in the store, reserved before any audio leaves: a restart, a
 * `kill -9`, or a second process on the same data folder never hands a token characters it has
 * already spent (before this, each process kept usage in memory and granted the whole budget anew).
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createKey } from '../../src/keys/create-key.ts'
import { openStore } from '../../src/store/open.ts'
import { bearer, call, mint } from '../helpers/http.ts'
import { startTestServer, testTls } from '../helpers/server.ts'
import { ttsBody, voiceIds } from '../helpers/security.ts'
import { eventually } from '../helpers/controlled-speech.ts'
import { TEST_SPEECH_WORKERS } from '../helpers/cli.ts'

const BIN = path.resolve(import.meta.dirname, '../../bin/voxgate.mjs')
const folders: string[] = []
const folder = () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'voxgate-budget-'))
  folders.push(dir)
  return dir
}
after(() => {
  for (const f of folders) rmSync(f, { recursive: true, force: true })
})

const TEN = 'abcd efgh.' // ten characters
const speak = (url: string, token: string, voice: string) =>
  call(url, '/tts/bytes', { headers: bearer(token), body: ttsBody(voice, TEN) })
const used = async (url: string, token: string) =>
  (await call(url, '/access-token/self', { headers: bearer(token) })).json.usage.characters

describe('characters budgets are durable and shared through the store', () => {
  test('a restart does not hand a spent token a fresh budget', async () => {
    const dataDir = folder()
    const first = await startTestServer({ dataDir })
    const [voice] = (await voiceIds(first.url, first.apiKey, 1)) as [string]
    const token = await mint(first.url, first.apiKey, {
      grants: { tts: true },
      expires_in: 600,
      limits: { characters: 20 },
    })
    assert.equal((await speak(first.url, token, voice)).status, 200)
    assert.equal((await speak(first.url, token, voice)).status, 200)
    await first.close({ keepData: true })

    const second = await startTestServer({ dataDir })
    try {
      const res = await speak(second.url, token, voice)
      assert.equal(res.status, 429)
      assert.equal(res.json.error_code, 'quota_exceeded')
      assert.equal(await used(second.url, token), 20)
    } finally {
      await second.close()
    }
  })

  test('seconds of audio transcribed (limits.audio_seconds) survive a restart too', async () => {
    const dataDir = folder()
    const upload = (url: string, token: string) => {
      const form = new FormData()
      form.append('file', new Blob([new Uint8Array(32_000)]), 'silence.raw') // 1 s of 16 kHz s16 silence
      form.append('model', 'ink-whisper')
      return fetch(`${url}/stt?encoding=pcm_s16le&sample_rate=16000`, {
        method: 'POST',
        headers: bearer(token),
        body: form,
      })
    }
    const first = await startTestServer({ dataDir })
    const token = await mint(first.url, first.apiKey, {
      grants: { stt: true },
      expires_in: 600,
      limits: { audio_seconds: 1 },
    })
    assert.equal((await upload(first.url, token)).status, 200)
    await first.close({ keepData: true })
    const second = await startTestServer({ dataDir })
    try {
      const again = await upload(second.url, token)
      assert.equal(again.status, 429)
      assert.equal(((await again.json()) as { error_code: string }).error_code, 'quota_exceeded')
      assert.equal(
        (await call(second.url, '/access-token/self', { headers: bearer(token) })).json.usage.audio_seconds,
        1,
      )
    } finally {
      await second.close()
    }
  })

  test('two servers on one data folder grant one budget between them, never one each', async () => {
    const dataDir = folder()
    const a = await startTestServer({ dataDir })
    const b = await startTestServer({ dataDir })
    try {
      const [voice] = (await voiceIds(a.url, a.apiKey, 1)) as [string]
      const token = await mint(a.url, a.apiKey, { grants: { tts: true }, expires_in: 600, limits: { characters: 100 } })
      // Thirty requests of ten characters, spread over both, all at once, against a budget of 100.
      const results = await Promise.all(
        Array.from({ length: 30 }, (_, i) => speak(i % 2 === 0 ? a.url : b.url, token, voice)),
      )
      const statuses = results.map((r) => r.status)
      assert.equal(statuses.filter((s) => s === 200).length, 10, statuses.join(','))
      assert.ok(
        results
          .filter((r) => r.status !== 200)
          .every((r) => r.status === 429 && r.json.error_code === 'quota_exceeded'),
      )
      assert.equal(await used(a.url, token), 100)
      assert.equal(await used(b.url, token), 100)
    } finally {
      await a.close({ keepData: true })
      await b.close()
    }
  })

  test('characters spent survive kill -9 of the server process', async () => {
    const dataDir = folder()
    const seed = await openStore({ dataDir })
    const key = await createKey(seed, 'test', Date.now())
    await seed.close()
    const tls = testTls()
    const serve = async () => {
      const child = spawn(
        process.execPath,
        [
          BIN,
          'serve',
          '--port',
          '0',
          '--data',
          dataDir,
          '--tls-cert',
          tls.tlsCertFile,
          '--tls-key',
          tls.tlsKeyFile,
          '--log-level',
          'warn',
          ...TEST_SPEECH_WORKERS,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      )
      let out = ''
      // The listening line is for people, on stderr; stdout is the log stream.
      child.stdout.on('data', () => undefined)
      child.stderr.on('data', (d: Buffer) => {
        out += d
      })
      await eventually(() => /listening on https:\/\//.test(out), 'the server listens', 60_000)
      return { child, url: /listening on (https:\/\/\S+)/.exec(out)![1]! }
    }
    const first = await serve()
    const [voice] = (await voiceIds(first.url, key.key, 1)) as [string]
    const token = await mint(first.url, key.key, { grants: { tts: true }, expires_in: 600, limits: { characters: 10 } })
    assert.equal((await speak(first.url, token, voice)).status, 200)
    const exited = new Promise((resolve) => first.child.once('exit', resolve))
    first.child.kill('SIGKILL')
    await exited
    const second = await serve()
    try {
      assert.equal((await speak(second.url, token, voice)).status, 429)
      assert.equal(await used(second.url, token), 10)
    } finally {
      second.child.kill('SIGTERM')
    }
  })
})
