import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { parseConfig } from '../src/config.ts'

describe('server options are validated and frozen at start', () => {
  test('defaults are filled in and the result is frozen', () => {
    const c = parseConfig({ dataDir: 'x' })
    assert.equal(c.port, 8443)
    assert.equal(c.host, '127.0.0.1')
    assert.equal(c.wsIdleTimeoutMs, 300_000)
    assert.ok(Object.isFrozen(c))
    assert.ok(Object.isFrozen(c.allowedOrigins))
  })

  test('speech workers: 1 to 64 (the refusals are below)', () => {
    assert.equal(parseConfig({ dataDir: 'x', speechWorkers: 1 }).speechWorkers, 1)
    assert.equal(parseConfig({ dataDir: 'x', speechWorkers: 64 }).speechWorkers, 64)
  })

  const bad: [string, object, RegExp][] = [
    [
      'a token cookie without an origin allowlist',
      { tokenCookieName: 'vx' },
      /--token-cookie needs at least one --allowed-origin/,
    ],
    ['a certificate without its key', { tlsCertFile: 'c.pem' }, /--tls-cert and --tls-key go together/],
    ['a port past 65535', { port: 65536 }, /port/],
    ['no speech worker', { speechWorkers: 0 }, /speechWorkers/],
    ['65 speech workers', { speechWorkers: 65 }, /speechWorkers/],
    ['an origin with a path', { allowedOrigins: ['https://a.example/x'] }, /allowedOrigins/],
    [
      'a cookie name with a semicolon',
      { tokenCookieName: 'a;b', allowedOrigins: ['https://a.example'] },
      /tokenCookieName/,
    ],
    ['an unknown option', { surprise: true }, /invalid server option/],
  ]
  for (const [name, input, message] of bad) {
    test(`${name} is refused`, () => {
      assert.throws(
        () => parseConfig({ dataDir: 'x', ...input } as never),
        (err: Error) => err instanceof TypeError && message.test(err.message),
      )
    })
  }
})
