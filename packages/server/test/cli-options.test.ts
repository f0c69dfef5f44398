/** One option table drives flags, VOXGATE_* environment variables and `--help`. */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { UsageError } from '../src/cli/args.ts'
import { SERVE_HELP } from '../src/cli/serve.ts'
import { KEYS_HELP } from '../src/cli/keys.ts'
import { SERVE_OPTIONS, STORE_OPTIONS } from '../src/cli/option-table.ts'
import { envName, resolveOptions } from '../src/cli/options.ts'

const resolve = (argv: string[], env: Record<string, string> = {}) => resolveOptions(SERVE_OPTIONS, argv, env).config

describe('serve options from flags and the environment', () => {
  test('every option has its variable: VOXGATE_ + the flag in upper case, dashes as underscores', () => {
    const names = Object.fromEntries(SERVE_OPTIONS.map((o) => [o.flag ?? o.key, envName(o)]))
    assert.equal(names.store, 'VOXGATE_STORE')
    assert.equal(names.redis, 'VOXGATE_REDIS')
    assert.equal(names['redis-prefix'], 'VOXGATE_REDIS_PREFIX')
    assert.equal(names['tts-streams-per-minute'], 'VOXGATE_TTS_STREAMS_PER_MINUTE')
    assert.equal(names.data, 'VOXGATE_DATA_DIR', 'the existing variable stays')
    assert.equal(names.keyEncryptionKey, 'VOXGATE_KEY_ENCRYPTION_KEY')
    assert.equal(new Set(Object.values(names)).size, SERVE_OPTIONS.length, 'no two options share a variable')
  })

  test('--help names every variable, and the key-encryption key has no flag', () => {
    for (const o of SERVE_OPTIONS) assert.ok(SERVE_HELP.includes(envName(o)), envName(o))
    for (const o of STORE_OPTIONS) assert.ok(KEYS_HELP.includes(envName(o)), envName(o))
    assert.ok(!SERVE_HELP.includes('--key-encryption-key'))
    assert.throws(() => resolve(['--key-encryption-key', 'x']), UsageError)
    assert.ok(
      SERVE_HELP.split('\n').every((line) => line.length <= 100),
      'help lines wrap at 100 columns',
    )
  })

  test('values: strings, whole numbers, seconds as milliseconds, lists and switches', () => {
    assert.deepEqual(
      resolve([], {
        VOXGATE_STORE: 'postgres://db/voxgate',
        VOXGATE_REDIS: 'redis://r:6379',
        VOXGATE_REDIS_PREFIX: 'vx:',
        VOXGATE_PORT: '9000',
        VOXGATE_WS_SESSION_GRACE_SECONDS: '60',
        VOXGATE_ALLOWED_ORIGIN: 'https://a.example, https://b.example,',
        VOXGATE_INSECURE_HTTP_BEHIND_PROXY: 'true',
        VOXGATE_KEY_ENCRYPTION_KEY: 'kek',
        VOXGATE_DATA_DIR: '/srv/vx',
      }),
      {
        dataDir: '/srv/vx',
        port: 9000,
        storeUrl: 'postgres://db/voxgate',
        keyEncryptionKey: 'kek',
        redisUrl: 'redis://r:6379',
        redisPrefix: 'vx:',
        insecureHttpBehindProxy: true,
        allowedOrigins: ['https://a.example', 'https://b.example'],
        wsSessionGraceMs: 60_000,
      },
    )
    assert.deepEqual(
      resolve([
        '--insecure-http-behind-proxy',
        '--allowed-origin',
        'https://a.example',
        '--allowed-origin',
        'https://c.example',
      ]),
      { insecureHttpBehindProxy: true, allowedOrigins: ['https://a.example', 'https://c.example'] },
    )
    assert.deepEqual(resolve(['--speech-workers', '1']), { speechWorkers: 1 })
    assert.deepEqual(resolve([], { VOXGATE_SPEECH_WORKERS: '3' }), { speechWorkers: 3 })
    assert.deepEqual(resolve([], { VOXGATE_INSECURE_HTTP_BEHIND_PROXY: '0', VOXGATE_TRUSTED_PROXY: '10.0.0.1' }), {
      insecureHttpBehindProxy: false,
      trustedProxies: ['10.0.0.1'],
    })
    assert.deepEqual(resolve([], { VOXGATE_PORT: '' }), {}, 'an empty variable is unset')
  })

  test('flags win over the environment', () => {
    assert.deepEqual(
      resolve(['--port', '2', '--store', 'sqlite:/a.db', '--allowed-origin', 'https://flag.example'], {
        VOXGATE_PORT: '1',
        VOXGATE_STORE: 'postgres://db/x',
        VOXGATE_ALLOWED_ORIGIN: 'https://env.example',
      }),
      { port: 2, storeUrl: 'sqlite:/a.db', allowedOrigins: ['https://flag.example'] },
    )
  })

  test('a bad value is a usage error naming where it came from', () => {
    const usage = (message: string) => (err: unknown) => err instanceof UsageError && err.message === message
    assert.throws(() => resolve([], { VOXGATE_PORT: 'abc' }), usage('VOXGATE_PORT must be a whole number'))
    assert.throws(() => resolve(['--port', '-1']), UsageError)
    assert.throws(() => resolve(['--hsts-max-age', '1.5']), usage('--hsts-max-age must be a whole number'))
    assert.throws(
      () => resolve([], { VOXGATE_INSECURE_HTTP_BEHIND_PROXY: 'yes' }),
      usage('VOXGATE_INSECURE_HTTP_BEHIND_PROXY must be 1, true, 0 or false'),
    )
  })
})
