/** The CLI on PostgreSQL: `--store` / VOXGATE_STORE on every command, the key-encryption key, secrets kept out of output. */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { bearer, call } from './helpers/http.ts'
import { newKek, PgProxy, shownProxyUrl, testSchema, type TestSchema } from './helpers/postgres.ts'
import { testTls } from './helpers/server.ts'
import { MIGRATIONS } from '../src/store/postgres/migrations.ts'

const BIN = path.resolve(import.meta.dirname, '../bin/voxgate.mjs')
const SECRET = 'pw-cli-never-printed'
const KEK = newKek()
const schemas: TestSchema[] = []
const folders: string[] = []
after(async () => {
  for (const s of schemas) await s.drop()
  for (const f of folders) rmSync(f, { recursive: true, force: true })
})
const fresh = (): TestSchema => {
  const s = testSchema()
  schemas.push(s)
  return s
}
const folder = (): string => {
  const f = mkdtempSync(path.join(tmpdir(), 'voxgate-cli-store-'))
  folders.push(f)
  return f
}

/** Runs the built CLI with only the given environment (plus PATH), so nothing leaks in from the test's own. */
function voxgate(env: Record<string, string>, ...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', ...env },
  })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

/** A URL with a password (PostgreSQL's trust auth here ignores it) for this schema. */
const withPassword = (schema: TestSchema) => {
  const u = new URL(schema.url())
  u.password = SECRET
  return u.href
}

describe('voxgate CLI with --store postgres://…', () => {
  test('keys create|list|revoke|rotate-signing take --store or VOXGATE_STORE and migrate a fresh schema themselves', async () => {
    const schema = fresh()
    const env = { VOXGATE_STORE: withPassword(schema), VOXGATE_KEY_ENCRYPTION_KEY: KEK, VOXGATE_DATA_DIR: folder() }
    const created = voxgate(env, 'keys', 'create', '--name', 'pg', '--json')
    assert.equal(created.code, 0, created.stderr)
    const key = JSON.parse(created.stdout)
    const { VOXGATE_STORE: store, ...noStoreEnv } = env
    const list = voxgate(noStoreEnv, 'keys', 'list', '--json', '--store', store)
    assert.equal(list.code, 0, list.stderr)
    assert.deepEqual(
      JSON.parse(list.stdout).map((k: { id: string }) => k.id),
      [key.id],
    )
    assert.equal(voxgate(env, 'keys', 'rotate-signing').code, 0)
    const refused = voxgate(env, 'keys', 'revoke', key.id)
    assert.deepEqual(
      [refused.code, refused.stderr.trim()],
      [1, `voxgate: last_admin_key: ${key.id} is the last admin key; create another admin key first`],
      'the last admin key stays, as over HTTP',
    )
    assert.equal(voxgate(env, 'keys', 'create', '--scopes', 'admin').code, 0)
    assert.equal(voxgate(env, 'keys', 'revoke', key.id).code, 0)
    assert.equal((await schema.query('SELECT version FROM schema_migrations')).length, MIGRATIONS.length)
    assert.equal((await schema.query<{ n: string }>('SELECT count(*) AS n FROM signing_keys'))[0]!.n, '1')
    for (const r of [created, list]) assert.ok(!(r.stdout + r.stderr).includes(SECRET))
    assert.deepEqual(readdirSync(env.VOXGATE_DATA_DIR), [], 'no SQLite file appears in the data folder')
  })

  test('without the key-encryption key, or with the wrong one: one line, exit 1', () => {
    const schema = fresh()
    const env = { VOXGATE_STORE: withPassword(schema) }
    const missing = voxgate(env, 'keys', 'list')
    assert.equal(missing.code, 1)
    assert.equal(
      missing.stderr,
      'voxgate: a PostgreSQL store needs VOXGATE_KEY_ENCRYPTION_KEY (32 random bytes in base64: openssl rand -base64 32)\n',
    )
    assert.equal(voxgate({ ...env, VOXGATE_KEY_ENCRYPTION_KEY: KEK }, 'keys', 'rotate-signing').code, 0)
    const wrong = voxgate({ ...env, VOXGATE_KEY_ENCRYPTION_KEY: newKek() }, 'keys', 'list')
    assert.equal(wrong.code, 1)
    assert.equal(
      wrong.stderr,
      'voxgate: VOXGATE_KEY_ENCRYPTION_KEY does not open the signing keys in this database (it is not the key they were sealed with)\n',
    )
    const short = voxgate({ ...env, VOXGATE_KEY_ENCRYPTION_KEY: 'c2hvcnQ=' }, 'keys', 'list')
    assert.equal(
      short.stderr,
      'voxgate: VOXGATE_KEY_ENCRYPTION_KEY must be 32 bytes in base64 (openssl rand -base64 32)\n',
    )
  })

  test('PostgreSQL unreachable: keys and serve fail with one line that never holds the password', async () => {
    const proxy = await PgProxy.start()
    await proxy.sever()
    const schema = fresh()
    const url = schema.url(proxy.url(SECRET))
    const tls = testTls()
    for (const args of [
      ['keys', 'list'],
      ['serve', '--port', '0', '--tls-cert', tls.tlsCertFile, '--tls-key', tls.tlsKeyFile],
    ]) {
      const r = voxgate({ VOXGATE_KEY_ENCRYPTION_KEY: KEK, VOXGATE_DATA_DIR: folder() }, ...args, '--store', url)
      assert.equal(r.code, 1, r.stderr)
      assert.equal(r.stderr.split('\n').length, 2, r.stderr)
      assert.ok(
        r.stderr.startsWith(`voxgate: cannot reach PostgreSQL at ${shownProxyUrl(proxy.port, schema.name)}: `),
        r.stderr,
      )
      assert.ok(!(r.stdout + r.stderr).includes(SECRET))
    }
  })

  test('serve configured only by the environment: PostgreSQL store, TLS files, port; --data keeps only local files', async () => {
    const schema = fresh()
    const data = folder()
    const tls = testTls()
    const child = spawn(process.execPath, [BIN, 'serve'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH ?? '',
        NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS ?? '',
        VOXGATE_STORE: withPassword(schema),
        VOXGATE_KEY_ENCRYPTION_KEY: KEK,
        VOXGATE_DATA_DIR: data,
        VOXGATE_PORT: '0',
        VOXGATE_TLS_CERT: tls.tlsCertFile,
        VOXGATE_TLS_KEY: tls.tlsKeyFile,
        VOXGATE_LOG_LEVEL: 'trace',
        VOXGATE_MINT_PER_MINUTE: '5',
        VOXGATE_SPEECH_WORKERS: '1',
      },
    })
    let out = ''
    child.stdout.on('data', (d) => {
      out += d
    })
    child.stderr.on('data', (d) => {
      out += d
    })
    try {
      for (const deadline = Date.now() + 60_000; !/listening on https:\/\//.test(out) && Date.now() < deadline; )
        await sleep(100)
      const url = /listening on (https:\/\/\S+)/.exec(out)?.[1]
      assert.ok(url, out)
      // stderr is not a terminal: the first key is in the data folder's first-api-key file.
      for (const deadline = Date.now() + 10_000; !/first-api-key/.test(out) && Date.now() < deadline; ) await sleep(100)
      const firstKey = readFileSync(path.join(data, 'first-api-key'), 'utf8').trim()
      assert.match(firstKey, /^sk_vx_/, 'a fresh PostgreSQL store gets a first key')
      const statuses = []
      for (let i = 0; i < 6; i++)
        statuses.push((await call(url, '/access-token', { headers: bearer(firstKey), body: {} })).status)
      assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429], 'VOXGATE_MINT_PER_MINUTE applies')
      assert.equal((await schema.query('SELECT id FROM api_keys')).length, 1)
      assert.ok(!existsSync(path.join(data, 'voxgate.db')), 'the store is not in the data folder')
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
      child.kill('SIGTERM')
      assert.equal(await exited, 0)
      assert.ok(!out.includes(SECRET), 'the password is in no output or log line')
    } finally {
      child.kill('SIGKILL')
    }
  })

  test('--data and --store together: the store where --store says, TLS files in --data', () => {
    const data = folder()
    const elsewhere = folder()
    const r = voxgate({}, 'keys', 'create', '--data', data, '--store', `sqlite:${path.join(elsewhere, 'keys.db')}`)
    assert.equal(r.code, 0, r.stderr)
    assert.ok(existsSync(path.join(elsewhere, 'keys.db')))
    assert.ok(!existsSync(path.join(data, 'voxgate.db')))
    const bad = voxgate({}, 'keys', 'create', '--store', 'mysql://x')
    assert.equal(bad.code, 2, 'a bad --store is a usage mistake')
    assert.equal(
      bad.stderr,
      'voxgate: --store must be sqlite:PATH or postgres://USER@HOST/DATABASE (see voxgate --help)\n',
    )
  })
})
