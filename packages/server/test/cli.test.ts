import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { testTls } from './helpers/server.ts'
import { bearer, call } from './helpers/http.ts'
import { TEST_SPEECH_WORKERS } from './helpers/cli.ts'

const BIN = path.resolve(import.meta.dirname, '../bin/voxgate.mjs')
const dataDir = mkdtempSync(path.join(tmpdir(), 'voxgate-cli-'))
after(() => rmSync(dataDir, { recursive: true, force: true }))

function voxgate(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, VOXGATE_DATA_DIR: dataDir },
  })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

/** Polls until `check` passes or `ms` have gone by. */
async function within(ms: number, check: () => Promise<boolean>): Promise<boolean> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; await sleep(100)) if (await check()) return true
  return false
}
/** The contract: a running server honours key changes made by the CLI within 5 s. */
const within5s = (check: () => Promise<boolean>) => within(5000, check)

describe('voxgate CLI', () => {
  test('--help on every command, exit 0', () => {
    for (const args of [['--help'], ['serve', '--help'], ['keys', '--help'], ['keys', 'create', '--help']]) {
      const r = voxgate(...args)
      assert.equal(r.code, 0, args.join(' '))
      assert.match(r.stdout, /Usage: voxgate/)
    }
  })

  test('after npm install, `npx voxgate` works from the repository root', () => {
    const root = path.resolve(import.meta.dirname, '../../..')
    const r = spawnSync('npx', ['--no-install', 'voxgate', '--help'], { cwd: root, encoding: 'utf8' })
    assert.equal(r.status, 0, r.stderr)
    assert.match(r.stdout, /Usage: voxgate <command>/)
  })

  test('bad arguments: one-line error, exit 2', () => {
    for (const args of [
      ['frobnicate'],
      ['keys', 'create', '--nmae', 'x'],
      ['serve', '--port', 'abc'],
      ['keys', 'revoke'],
      ['keys', 'list', '--port'],
      ['serve', '--body-min-rate', '1.5'],
      ['serve', '--hsts-max-age', '-1'],
      ['serve', '--headers-timeout-seconds', '30', '--request-timeout-seconds', '20'],
      ['serve', '--speech-workers', '0'],
      ['serve', '--speech-workers', '65'],
    ]) {
      const r = voxgate(...args)
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
      assert.match(r.stderr, /^voxgate: /)
    }
  })

  test('keys create --json, list never shows a secret, revoke', () => {
    const created = voxgate('keys', 'create', '--name', 'ci', '--json')
    assert.equal(created.code, 0, created.stderr)
    const key = JSON.parse(created.stdout)
    assert.deepEqual(Object.keys(key).sort(), ['created_at', 'expires_at', 'id', 'key', 'name', 'scopes'])
    assert.match(key.key, /^sk_vx_[A-Za-z0-9_-]{43}$/)
    assert.equal(key.name, 'ci')
    const list = voxgate('keys', 'list', '--json')
    assert.equal(list.code, 0)
    assert.ok(!list.stdout.includes(key.key), 'list never prints a key')
    const row = JSON.parse(list.stdout).find((k: { id: string }) => k.id === key.id)
    assert.equal(row.prefix, key.key.slice(0, 12))
    assert.equal(row.revoked_at, null)
    // The first key is the store's only admin key: another must exist before it may go.
    assert.equal(voxgate('keys', 'create', '--scopes', 'admin').code, 0)
    assert.equal(voxgate('keys', 'revoke', key.id).code, 0)
    assert.notEqual(
      JSON.parse(voxgate('keys', 'list', '--json').stdout).find((k: { id: string }) => k.id === key.id).revoked_at,
      null,
    )
    assert.equal(voxgate('keys', 'revoke', key.id).code, 2, 'revoking twice is a usage error')
  })

  test('keys create --scopes --expires-in-days: stored and listed; bad values exit 2 naming the flag', () => {
    const before = Date.now()
    const created = voxgate('keys', 'create', '--scopes', 'read,mint', '--expires-in-days', '30', '--json')
    assert.equal(created.code, 0, created.stderr)
    const key = JSON.parse(created.stdout)
    assert.deepEqual(key.scopes, ['read', 'mint'])
    const expires = Date.parse(key.expires_at)
    assert.ok(expires >= before + 30 * 86_400_000 && expires <= Date.now() + 30 * 86_400_000, key.expires_at)
    const row = JSON.parse(voxgate('keys', 'list', '--json').stdout).find((k: { id: string }) => k.id === key.id)
    assert.deepEqual([row.scopes, row.expires_at], [['read', 'mint'], key.expires_at])
    for (const [flag, value] of [
      ['--scopes', 'mint,root'],
      ['--expires-in-days', '0'],
      ['--expires-in-days', '3651'],
    ]) {
      const r = voxgate('keys', 'create', flag!, value!)
      assert.equal(r.code, 2, `${flag} ${value}`)
      assert.match(r.stderr, new RegExp(flag!))
    }
    assert.equal(voxgate('keys', 'create', '--expires-in-days', '3650', '--json').code, 0)
  })

  test('a store other users can read: keys and serve refuse with one line naming the chmod, exit 1', () => {
    const data = mkdtempSync(path.join(tmpdir(), 'voxgate-cli-modes-'))
    try {
      const run = (...a: string[]) => spawnSync(process.execPath, [BIN, ...a, '--data', data], { encoding: 'utf8' })
      assert.equal(run('keys', 'create').status, 0)
      const db = path.join(data, 'voxgate.db')
      chmodSync(db, 0o644)
      const tls = testTls()
      for (const args of [
        ['keys', 'list'],
        ['serve', '--port', '0', '--tls-cert', tls.tlsCertFile, '--tls-key', tls.tlsKeyFile],
      ]) {
        const r = run(...args)
        assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr}`)
        assert.equal(
          r.stderr,
          `voxgate: ${db} holds secrets but other users can access it (mode 0644); run: chmod 600 ${db}\n`,
        )
        assert.equal(r.stdout, '')
      }
    } finally {
      rmSync(data, { recursive: true, force: true })
    }
  })

  test('serve: prints its URL and where the first key is; honours CLI key changes within 5 s; stops on SIGTERM', async () => {
    const fresh = mkdtempSync(path.join(tmpdir(), 'voxgate-serve-'))
    const tls = testTls()
    const child = spawn(
      process.execPath,
      [
        BIN,
        'serve',
        '--port',
        '0',
        '--data',
        fresh,
        '--tls-cert',
        tls.tlsCertFile,
        '--tls-key',
        tls.tlsKeyFile,
        '--log-level',
        'warn',
        '--hsts-max-age',
        '600',
        ...TEST_SPEECH_WORKERS,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => {
      stdout += d
    })
    child.stderr.on('data', (d) => {
      stderr += d
    })
    try {
      // Start-up (speech workers warming) is not part of the 5 s contract; allow it a minute.
      assert.ok(await within(120_000, async () => /first-api-key/.test(stderr)), stderr)
      const url = /listening on (https:\/\/\S+)/.exec(stderr)![1]!
      // stderr is a pipe here, not a terminal: the first key is in a 0600 file, never printed.
      const firstKey = readFileSync(path.join(fresh, 'first-api-key'), 'utf8').trim()
      assert.match(firstKey, /^sk_vx_[A-Za-z0-9_-]{43}$/)
      assert.ok(!stderr.includes(firstKey) && !stdout.includes(firstKey))
      const first = await call(url, '/access-token', { headers: bearer(firstKey), body: {} })
      assert.equal(first.status, 200)
      assert.equal(first.headers.get('strict-transport-security'), 'max-age=600')
      const run = (...a: string[]) => spawnSync(process.execPath, [BIN, ...a, '--data', fresh], { encoding: 'utf8' })
      const created = JSON.parse(run('keys', 'create', '--json').stdout)
      assert.ok(
        await within5s(
          async () => (await call(url, '/access-token', { headers: bearer(created.key), body: {} })).status === 200,
        ),
      )
      const token = (
        await call(url, '/access-token', { headers: bearer(created.key), body: { grants: { voices: true } } })
      ).json.token
      assert.equal((await call(url, '/voices', { headers: bearer(token) })).status, 200)
      assert.equal(run('keys', 'revoke', created.id).status, 0)
      assert.ok(
        await within5s(async () => (await call(url, '/voices', { headers: bearer(token) })).status === 401),
        'token of a revoked key refused within 5 s',
      )
      assert.equal((await call(url, '/access-token', { headers: bearer(created.key), body: {} })).status, 401)
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
      child.kill('SIGTERM')
      assert.equal(await exited, 0)
    } finally {
      child.kill('SIGKILL')
      rmSync(fresh, { recursive: true, force: true })
    }
  })
})
