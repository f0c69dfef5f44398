/**
 * Three instances on one PostgreSQL schema and one Redis prefix, as a deployment runs them: one
 * token's characters budget holds across all three under concurrent load, its concurrent_streams
 * across instances, a revoke on A ends a WebSocket on B and an SSE stream on C within 1 s, and a
 * `kill -9` of B frees its stream slots within the lease TTL. B is a real `voxgate serve` process.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createKey } from '../../src/keys/create-key.ts'
import { bearer, call, mint } from '../helpers/http.ts'
import { testSchema, TEST_KEK } from '../helpers/postgres.ts'
import { dropPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis.ts'
import { closeQuietly, openInbox, readSse, ttsBody, voiceIds } from '../helpers/security.ts'
import { startTestServer, testTls, type TestServer } from '../helpers/server.ts'
import { eventually } from '../helpers/controlled-speech.ts'
import { TEST_SPEECH_WORKERS } from '../helpers/cli.ts'

const BIN = path.resolve(import.meta.dirname, '../../bin/voxgate.mjs')
const schema = testSchema()
const prefix = uniquePrefix()
const bData = mkdtempSync(path.join(tmpdir(), 'voxgate-b-'))
let a: TestServer
let c: TestServer
let b: { child: ChildProcess; url: string }
let apiKey: string
let voice: string

async function spawnInstance(): Promise<{ child: ChildProcess; url: string }> {
  const tls = testTls()
  const child = spawn(
    process.execPath,
    [
      BIN,
      'serve',
      '--port',
      '0',
      '--data',
      bData,
      '--tls-cert',
      tls.tlsCertFile,
      '--tls-key',
      tls.tlsKeyFile,
      '--log-level',
      'warn',
      '--store',
      schema.url(),
      '--redis',
      SHARED_REDIS_URL,
      '--redis-prefix',
      prefix,
      '--drain-seconds',
      '0',
      ...TEST_SPEECH_WORKERS,
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, VOXGATE_KEY_ENCRYPTION_KEY: TEST_KEK },
    },
  )
  let out = ''
  // The listening line is for people, on stderr; stdout is the log stream.
  child.stdout!.on('data', () => undefined)
  child.stderr!.on('data', (d: Buffer) => {
    out += d
  })
  await eventually(() => /listening on https:\/\//.test(out), 'instance B listens', 60_000)
  return { child, url: /listening on (https:\/\/\S+)/.exec(out)![1]! }
}

before(async () => {
  const shared = { store: schema.url(), redisUrl: SHARED_REDIS_URL, redisPrefix: prefix }
  a = await startTestServer(shared)
  c = await startTestServer(shared)
  b = await spawnInstance()
  apiKey = (await createKey(a.server.ctx.store, 'cluster', Date.now())).key
  ;[voice] = (await voiceIds(a.url, apiKey, 1)) as [string]
})
after(async () => {
  if (b.child.exitCode === null) b.child.kill('SIGKILL')
  await a.close()
  await c.close()
  await schema.drop()
  await dropPrefix(SHARED_REDIS_URL, prefix)
  rmSync(bData, { recursive: true, force: true })
})

const urls = () => [a.url, b.url, c.url]
const TEN = 'abcd efgh.'
const openStreams = async (url: string, token: string) =>
  (await call(url, '/access-token/self', { headers: bearer(token) })).json.usage.open_streams

describe('three instances, one PostgreSQL, one Redis', () => {
  test("30 concurrent requests over the three never exceed one token's characters budget", async () => {
    const token = await mint(a.url, apiKey, { grants: { tts: true }, expires_in: 600, limits: { characters: 100 } })
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        call(urls()[i % 3]!, '/tts/bytes', { headers: bearer(token), body: ttsBody(voice, TEN) }),
      ),
    )
    assert.equal(results.filter((r) => r.status === 200).length, 10)
    assert.ok(results.every((r) => r.status === 200 || r.json.error_code === 'quota_exceeded'))
    for (const url of urls())
      assert.equal((await call(url, '/access-token/self', { headers: bearer(token) })).json.usage.characters, 100)
  })

  test('a concurrent_streams: 2 token holds one slot on A and one on B; C refuses the third', async () => {
    const token = await mint(a.url, apiKey, {
      grants: { tts: true },
      expires_in: 600,
      limits: { concurrent_streams: 2 },
    })
    const onA = await openInbox(a.url, { query: `?access_token=${token}` })
    const onB = await openInbox(b.url, { query: `?access_token=${token}` })
    try {
      onA.send({ ...ttsBody(voice, 'waiting'), context_id: 'a', continue: true })
      onB.send({ ...ttsBody(voice, 'waiting'), context_id: 'b', continue: true })
      await eventually(async () => (await openStreams(c.url, token)) === 2, 'two slots held')
      const third = await call(c.url, '/tts/bytes', { headers: bearer(token), body: ttsBody(voice, 'Third.') })
      assert.equal(third.status, 429)
      assert.equal(third.json.error_code, 'concurrency_limited')
    } finally {
      closeQuietly(onA.ws)
      closeQuietly(onB.ws)
    }
  })

  test('a revoke on A ends a WebSocket on B and an SSE stream on C within 1 s', async () => {
    const token = await mint(a.url, apiKey, { grants: { tts: true }, expires_in: 600 })
    const onB = await openInbox(b.url, { query: `?access_token=${token}` })
    try {
      onB.send({ ...ttsBody(voice, 'waiting'), context_id: 'held', continue: true })
      // A long stream at 48 kHz f32, read slowly: it is still live on C when the revoke lands.
      const long = ttsBody(voice, 'Revocation must stop this stream at once. '.repeat(230).slice(0, 10_000), {
        output_format: { container: 'raw', encoding: 'pcm_f32le', sample_rate: 48000 },
      })
      const res = await fetch(`${c.url}/tts/sse`, {
        method: 'POST',
        headers: { ...bearer(token), 'content-type': 'application/json' },
        body: JSON.stringify(long),
      })
      assert.equal(res.status, 200)
      let first!: () => void
      const started = new Promise<void>((r) => {
        first = r
      })
      const reading = readSse(res.body!, { pauseMs: 50, onEvent: () => first() })
      await started
      await eventually(
        async () => (await openStreams(b.url, token)) === 1 && (await openStreams(c.url, token)) === 1,
        'both streams open',
      )
      const t0 = performance.now()
      assert.equal(
        (await call(a.url, '/access-token/revoke', { headers: bearer(apiKey), body: { token } })).status,
        200,
      )
      const close = await onB.closed(3000)
      assert.equal(close.code, 4401)
      assert.ok(close.at - t0 < 1000, `B closed the socket ${Math.round(close.at - t0)} ms after the revoke`)
      const { events, endedAt, cut } = await reading
      assert.ok(endedAt - t0 < 1000, `C's stream went on ${Math.round(endedAt - t0)} ms after the revoke`)
      if (cut === undefined) assert.equal(events.at(-1)?.data.error_code, 'token_revoked')
    } finally {
      closeQuietly(onB.ws)
    }
  })

  test('kill -9 of B frees the slots it held within the lease TTL', async () => {
    const token = await mint(a.url, apiKey, {
      grants: { tts: true },
      expires_in: 600,
      limits: { concurrent_streams: 1 },
    })
    const onB = await openInbox(b.url, { query: `?access_token=${token}` })
    onB.send({ ...ttsBody(voice, 'waiting'), context_id: 'doomed', continue: true })
    await eventually(async () => (await openStreams(a.url, token)) === 1, 'B holds the slot')
    const exited = new Promise((resolve) => b.child.once('exit', resolve))
    b.child.kill('SIGKILL')
    await exited
    closeQuietly(onB.ws)
    const refused = await call(a.url, '/tts/bytes', { headers: bearer(token), body: ttsBody(voice, 'Not yet.') })
    assert.equal(
      refused.json.error_code,
      'concurrency_limited',
      'the dead instance still holds it right after the kill',
    )
    await eventually(
      async () =>
        (await call(a.url, '/tts/bytes', { headers: bearer(token), body: ttsBody(voice, 'Now.') })).status === 200,
      'the slot freed itself',
      25_000,
    )
  })
})
