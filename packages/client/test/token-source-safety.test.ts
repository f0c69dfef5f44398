import assert from 'node:assert/strict'
import { test } from 'node:test'
import { inspect } from 'node:util'
import { ApiError, TokenSource, VoxgateClient, VoxgateClientError } from '../src/index.ts'
import { fakeBackend } from './helpers/backend.ts'
import { FakeClock } from './helpers/clock.ts'

/** Installs spy Web Storage objects (and a `window`) on globalThis for the duration of `fn`. */
async function withSpyStorage(fn: () => Promise<void>): Promise<number> {
  const g = globalThis as Record<string, unknown>
  let writes = 0
  const store = () => ({
    setItem: () => {
      writes++
    },
    getItem: () => null,
    removeItem: () => {
      writes++
    },
    clear: () => {
      writes++
    },
    key: () => null,
    length: 0,
  })
  const saved = { localStorage: g.localStorage, sessionStorage: g.sessionStorage, document: g.document }
  let cookieWrites = 0
  Object.assign(g, {
    localStorage: store(),
    sessionStorage: store(),
    document: {
      set cookie(_v: string) {
        cookieWrites++
      },
      get cookie() {
        return ''
      },
    },
  })
  try {
    await fn()
  } finally {
    for (const [k, v] of Object.entries(saved))
      if (v === undefined) delete g[k]
      else g[k] = v
  }
  return writes + cookieWrites
}

test('tokens are never written to localStorage, sessionStorage or document.cookie', async () => {
  const writes = await withSpyStorage(async () => {
    const clock = new FakeClock()
    const backend = fakeBackend(clock, { ttl: 60 })
    const source = new TokenSource({ endpoint: 'https://app.example/token', fetch: backend.fetch, clock })
    await source.withToken(async (t) => t)
    await clock.advance(200_000)
    await source.refresh()
    source.close()
    assert.ok(backend.calls.length >= 5)
  })
  assert.equal(writes, 0)
})

test('the token never shows in JSON, inspect output or error messages', async () => {
  const clock = new FakeClock()
  const backend = fakeBackend(clock, { ttl: 60, script: ['mint', 'mint', 401] })
  const source = new TokenSource({
    endpoint: 'https://app.example/token',
    fetch: backend.fetch,
    clock,
    autoRefresh: false,
  })
  await source.ready()
  const token = backend.tokens[0] as string
  assert.ok(!JSON.stringify(source).includes(token))
  assert.ok(!inspect(source, { showHidden: true, depth: 10 }).includes(token))
  assert.ok(!Object.values(source).some((v) => v === token))

  const errors: unknown[] = []
  await source
    .withToken(async () => {
      throw new ApiError('ERR_TOKEN_EXPIRED', 'expired', 401, 'token_expired', 'r', false)
    })
    .catch((e) => errors.push(e))
  await source
    .withToken(async () => {
      throw new ApiError('ERR_TOKEN_EXPIRED', 'expired', 401, 'token_expired', 'r', false)
    })
    .catch((e) => errors.push(e))
  const bad = new TokenSource({ fetchToken: async () => ({ token: `${token} with spaces`, expires_at: 1 }), clock })
  await bad.ready().catch((e) => errors.push(e))
  assert.ok(errors.length >= 2)
  for (const err of errors) {
    assert.ok(err instanceof VoxgateClientError)
    assert.ok(
      !err.message.includes(token) && !String(err.stack).includes(token) && !inspect(err).includes(token),
      err.code,
    )
  }
})

test('in a browser, a value that looks like an API key is refused (no retry)', async () => {
  const g = globalThis as Record<string, unknown>
  g.window = {}
  try {
    for (const key of ['sk_vx_1234567890', 'sk_car_abcdef']) {
      let calls = 0
      const source = new TokenSource({
        fetchToken: async () => {
          calls++
          return { token: key, expires_at: 2_000_000_000 }
        },
      })
      await assert.rejects(
        source.ready(),
        (err: VoxgateClientError) => err.code === 'ERR_API_KEY_IN_BROWSER' && !err.message.includes(key),
      )
      assert.equal(calls, 1)
    }
  } finally {
    delete g.window
  }
})

test('credentials go only over HTTPS, except to loopback', () => {
  const tokens = new TokenSource({ fetchToken: async () => ({ token: 't', expires_at: 2_000_000_000 }) })
  for (const baseUrl of ['http://voice.example.com', 'http://10.0.0.2:8089', 'ws://voice.example.com']) {
    assert.throws(
      () => new VoxgateClient({ baseUrl, tokens }),
      (err: VoxgateClientError) => err.code === 'ERR_INSECURE_URL',
    )
  }
  for (const baseUrl of [
    'https://voice.example.com',
    'http://localhost:8089',
    'http://127.0.0.1:1',
    'http://[::1]:8089',
  ]) {
    new VoxgateClient({ baseUrl, tokens })
  }
  assert.throws(
    () => new TokenSource({ endpoint: 'http://app.example.com/token' }),
    (err: VoxgateClientError) => err.code === 'ERR_INSECURE_URL',
  )
  assert.throws(() => new TokenSource({}), TypeError)
})
