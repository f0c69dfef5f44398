import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { testTls } from './helpers/server.ts'
import { bearer, call } from './helpers/http.ts'
import { answerError, FakeHttpUpstream } from './helpers/fake-http-upstream.ts'
import { newKek } from './helpers/kek.ts'
import { BIN, listening, spawnServe, waitFor, type ServeRun } from './helpers/cli.ts'

/**
 * A failed start exits within 2 s of the CLI being loaded on a quiet machine (measured for the issue);
 * loading the CLI alone takes many seconds on a loaded 2-core runner with four starting at once, so
 * the bound here is generous. What it proves: the old code never exited at all (a speech worker,
 * the store and a Redis client stayed open).
 */
const FAILED_START_BOUND_MS = 60_000

const root = mkdtempSync(path.join(tmpdir(), 'voxgate-cli-start-'))
after(() => rmSync(root, { recursive: true, force: true }))
let folders = 0
const freshDataDir = () => mkdtempSync(path.join(root, `data-${folders++}-`))

/** Waits for a failed start; a start that never ends is killed and fails the test. */
async function failedStart(run: ServeRun) {
  const timer = setTimeout(() => run.child.kill('SIGKILL'), FAILED_START_BOUND_MS)
  const { code, elapsedMs } = await run.exited
  clearTimeout(timer)
  return { code, elapsedMs, stdout: run.stdout(), stderr: run.stderr() }
}

function assertOneLineFailure(r: Awaited<ReturnType<typeof failedStart>>, pattern: RegExp) {
  assert.equal(r.code, 1, `exit code; stderr: ${r.stderr}`)
  assert.ok(r.elapsedMs < FAILED_START_BOUND_MS, `exited after ${r.elapsedMs} ms`)
  assert.equal(r.stderr.split('\n').filter(Boolean).length, 1, r.stderr)
  assert.match(r.stderr, pattern)
}

function apiKeys(dataDir: string): unknown[] {
  const r = spawnSync(process.execPath, [BIN, 'keys', 'list', '--json', '--data', dataDir], { encoding: 'utf8' })
  assert.equal(r.status, 0, r.stderr)
  return JSON.parse(r.stdout)
}

describe('voxgate serve: a start that fails exits with one line and leaves nothing behind', () => {
  let taken: net.Server
  let takenPort: number
  let upstream: FakeHttpUpstream
  let closedPort: number
  before(async () => {
    const probe = net.createServer()
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
    closedPort = (probe.address() as net.AddressInfo).port
    await new Promise<void>((resolve) => probe.close(() => resolve()))
    taken = net.createServer()
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
    takenPort = (taken.address() as net.AddressInfo).port
    upstream = await FakeHttpUpstream.start()
    upstream.handler = answerError(401, 'invalid_api_key', 'The API key is not valid.')
  })
  after(async () => {
    taken.close()
    await upstream.close()
  })

  test('port in use, bad certificate, unreachable store, an upstream refusing the key; no first key made', async () => {
    const tls = testTls()
    const badCert = path.join(root, 'not-a-cert.pem')
    writeFileSync(badCert, 'not a certificate\n', { mode: 0o600 })
    const cases: { args: string[]; env?: Record<string, string>; pattern: RegExp }[] = [
      {
        args: ['--port', String(takenPort)],
        pattern: /^voxgate: cannot listen on 127\.0\.0\.1:\d+: the port is in use/,
      },
      {
        args: ['--port', '0', '--tls-cert', badCert, '--tls-key', badCert],
        pattern: /^voxgate: cannot use TLS certificate .*not-a-cert\.pem with key .*: .*PEM/,
      },
      {
        args: ['--port', '0', '--store', `postgres://postgres@127.0.0.1:${closedPort}/test`],
        env: { VOXGATE_KEY_ENCRYPTION_KEY: newKek() },
        pattern: /^voxgate: cannot reach PostgreSQL at postgres:\/\/postgres@127\.0\.0\.1:\d+\/test/,
      },
      {
        args: ['--port', '0', '--tls-cert', tls.tlsCertFile, '--tls-key', tls.tlsKeyFile, '--upstream', upstream.url],
        env: { VOXGATE_UPSTREAM_API_KEY: 'sk_upstream_refused' },
        pattern: /^voxgate: the upstream refused voxgate's upstream API key \(HTTP 401/,
      },
    ]
    const dirs = cases.map(() => freshDataDir())
    // In parallel: each start loads the whole CLI, which is most of its time.
    const results = await Promise.all(cases.map((c, i) => failedStart(spawnServe(dirs[i]!, c.args, c.env))))
    results.forEach((r, i) => {
      assertOneLineFailure(r, cases[i]!.pattern)
      assert.equal(r.stdout, '', 'nothing on the log stream')
      assert.ok(!existsSync(path.join(dirs[i]!, 'first-api-key')))
      assert.ok(!r.stderr.includes('sk_'), 'no key printed')
    })
    // The SQLite cases: the store holds no API key either, so the next start makes (and shows) it.
    for (const i of [0, 1, 3]) assert.deepEqual(apiKeys(dirs[i]!), [])
  })
})

describe('voxgate serve: the first API key, with stderr not a terminal', () => {
  test('made after listening, in a 0600 file whose path is printed, again on the next start, deleted on first use', async () => {
    const dataDir = freshDataDir()
    const tls = testTls()
    const args = ['--port', '0', '--tls-cert', tls.tlsCertFile, '--tls-key', tls.tlsKeyFile]
    const file = path.join(dataDir, 'first-api-key')
    const start = async () => {
      const run = spawnServe(dataDir, args)
      await listening(run)
      await waitFor(() => run.stderr().includes(file), 'the key file named')
      return run
    }
    const stop = async (run: ServeRun) => assert.equal(await run.stop(), 0)

    const first = await start()
    let key: string
    try {
      assert.match(first.stderr(), new RegExp(`created API key key_[\\w-]+; it is in ${file} \\(mode 0600\\)`))
      assert.equal(statSync(file).mode & 0o777, 0o600)
      key = readFileSync(file, 'utf8').trim()
      assert.match(key, /^sk_vx_[A-Za-z0-9_-]{43}$/)
      assert.ok(!first.stderr().includes(key) && !first.stdout().includes(key), 'the key is in the file only')
    } finally {
      await stop(first)
    }
    // Piped stdout is JSON lines only, and a graceful stop logs draining, then stopped.
    const logs = first
      .stdout()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { msg: string })
    assert.deepEqual(
      logs.map((l) => l.msg).filter((m) => m === 'draining' || m === 'stopped'),
      ['draining', 'stopped'],
    )

    const second = await start()
    try {
      assert.match(second.stderr(), new RegExp(`The first API key has not been used yet; it is in ${file}`))
      assert.equal(apiKeys(dataDir).length, 1, 'no second key')
      const url = second.url()!
      assert.equal((await call(url, '/access-token', { headers: bearer(key), body: {} })).status, 200)
      await waitFor(() => !existsSync(file), 'the file deleted on first use', 10_000)
    } finally {
      await stop(second)
    }
  })
})

describe('voxgate serve: a SIGTERM at any moment of its start is a graceful stop', () => {
  test('sent the moment "listening" is printed, before the first key is handed over: exit 0, "stopped" logged', async () => {
    const tls = testTls()
    const run = spawnServe(freshDataDir(), ['--port', '0', '--tls-cert', tls.tlsCertFile, '--tls-key', tls.tlsKeyFile])
    // Checked after every I/O event, so the signal follows the line by well under a millisecond, while
    // the first key's hand-over (a store write, a 0600 file) is still under way.
    const deadline = Date.now() + 60_000
    while (run.url() === undefined) {
      assert.ok(Date.now() < deadline, `no listening line: ${run.stderr()}`)
      await new Promise((resolve) => setImmediate(resolve))
    }
    assert.equal(await run.stop(), 0, run.stderr())
    const msgs = run
      .stdout()
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { msg: string }).msg)
    assert.ok(msgs.includes('stopped'), `logged: ${msgs.join(', ')}`)
  })
})
