/**
 * Several voxgate processes on one host sharing one data folder, without Redis, are a supported
 * cluster: concurrent streams and per-key rate limits hold across them through the SQLite store (as
 * budgets and revocations already do). Two servers on one folder stand for two processes: each has
 * its own SQLite connection, so they meet only in the file.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createKey } from '../../src/keys/create-key.ts'
import { bearer, call, mint } from '../helpers/http.ts'
import { closeQuietly, openInbox, ttsBody, voiceIds } from '../helpers/security.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { eventually } from '../helpers/controlled-speech.ts'

const dataDir = mkdtempSync(path.join(tmpdir(), 'voxgate-folder-'))
let a: TestServer
let b: TestServer
let voice: string
before(async () => {
  a = await startTestServer({ dataDir, mintPerMinute: 6 })
  b = await startTestServer({ dataDir, mintPerMinute: 6 })
  ;[voice] = (await voiceIds(a.url, a.apiKey, 1)) as [string]
})
after(async () => {
  await b.close({ keepData: true })
  await a.close()
  rmSync(dataDir, { recursive: true, force: true })
})

const openStreams = async (url: string, token: string) =>
  (await call(url, '/access-token/self', { headers: bearer(token) })).json.usage.open_streams

describe('two processes on one SQLite data folder, no Redis', () => {
  test('concurrent_streams: 1 holds across both', async () => {
    const token = await mint(a.url, a.apiKey, {
      grants: { tts: true },
      expires_in: 600,
      limits: { concurrent_streams: 1 },
    })
    const onA = await openInbox(a.url, { query: `?access_token=${token}` })
    try {
      onA.send({ ...ttsBody(voice, 'waiting'), context_id: 'held', continue: true })
      await eventually(async () => (await openStreams(b.url, token)) === 1, 'B sees the slot A holds')
      const onB = await call(b.url, '/tts/bytes', { headers: bearer(token), body: ttsBody(voice, 'Second.') })
      assert.equal(onB.status, 429)
      assert.equal(onB.json.error_code, 'concurrency_limited')
      onA.send({ context_id: 'held', cancel: true })
      await eventually(async () => (await openStreams(b.url, token)) === 0, 'released')
      assert.equal(
        (await call(b.url, '/tts/bytes', { headers: bearer(token), body: ttsBody(voice, 'Now.') })).status,
        200,
      )
    } finally {
      closeQuietly(onA.ws)
    }
  })

  test('a per-key mint limit of 6 a minute is 6 for both together, not 6 each', async () => {
    const key = await createKey(a.server.ctx.store, 'limited', Date.now())
    const statuses: number[] = []
    for (let i = 0; i < 8; i++)
      statuses.push(
        (await call(i % 2 === 0 ? a.url : b.url, '/access-token', { headers: bearer(key.key), body: {} })).status,
      )
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 200, 429, 429])
  })
})
