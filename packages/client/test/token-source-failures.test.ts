import assert from 'node:assert/strict'
import { test } from 'node:test'
import { SignedOutError, TokenBackendError, TokenSource, type VoxgateClientError } from '../src/index.ts'
import { fakeBackend } from './helpers/backend.ts'
import { FakeClock } from './helpers/clock.ts'

test('backend failures (5xx, network) are retried with growing, jittered backoff', async () => {
  const clock = new FakeClock()
  const backend = fakeBackend(clock, { script: [503, 'network', 502] })
  const source = new TokenSource({
    endpoint: 'https://app.example/token',
    fetch: backend.fetch,
    clock,
    autoRefresh: false,
  })
  const got = source.withToken(async (t) => t)
  await clock.advance(60_000)
  assert.equal(await got, backend.tokens[0])
  assert.equal(backend.calls.length, 4)
  // random() = 0.5 → delay = cap/2 + cap/4 with cap = 500, 1000, 2000 ms.
  assert.deepEqual(clock.delays, [375, 750, 1500])
})

test('after the bounded retries the caller gets ERR_TOKEN_BACKEND', async () => {
  const clock = new FakeClock()
  const backend = fakeBackend(clock, { script: Array(10).fill(500) })
  const source = new TokenSource({
    endpoint: 'https://app.example/token',
    fetch: backend.fetch,
    clock,
    retries: 3,
    autoRefresh: false,
  })
  const got = source.withToken(async (t) => t)
  const outcome = got.then(
    () => undefined,
    (err: unknown) => err,
  )
  await clock.advance(60_000)
  const err = await outcome
  assert.ok(err instanceof TokenBackendError)
  assert.equal(err.code, 'ERR_TOKEN_BACKEND')
  assert.equal(err.retryable, true)
  assert.equal(backend.calls.length, 4)
  assert.deepEqual(clock.delays.slice(0, 3), [375, 750, 1500])
})

test('a 4xx other than 401/403 is not retried', async () => {
  const clock = new FakeClock()
  const backend = fakeBackend(clock, { script: [404] })
  const source = new TokenSource({
    endpoint: 'https://app.example/token',
    fetch: backend.fetch,
    clock,
    autoRefresh: false,
  })
  await assert.rejects(source.ready(), (err: VoxgateClientError) => err.code === 'ERR_TOKEN_BACKEND' && !err.retryable)
  assert.equal(backend.calls.length, 1)
})

test('a malformed answer is ERR_TOKEN_RESPONSE, not retried', async () => {
  const clock = new FakeClock()
  const backend = fakeBackend(clock, { script: [{ expires_at: clock.serverStartSeconds + 60 }] })
  const source = new TokenSource({ endpoint: 'https://app.example/token', fetch: backend.fetch, clock })
  await assert.rejects(source.ready(), (err: VoxgateClientError) => err.code === 'ERR_TOKEN_RESPONSE')
  assert.equal(backend.calls.length, 1)
})

test('a 401 from the backend signs out: SignedOutError, and no further fetches until signedIn()', async () => {
  const clock = new FakeClock()
  const backend = fakeBackend(clock, { ttl: 60, script: ['mint', 401] })
  let notified = 0
  const source = new TokenSource({
    endpoint: 'https://app.example/token',
    fetch: backend.fetch,
    clock,
    onSignedOut: () => notified++,
  })
  await source.ready()
  await clock.advance(45_000) // background refresh → 401
  assert.equal(backend.calls.length, 2)
  assert.equal(source.status, 'signed-out')
  assert.equal(notified, 1)
  for (let i = 0; i < 5; i++) {
    await assert.rejects(
      source.withToken(async (t) => t),
      (err: unknown) => err instanceof SignedOutError && err.code === 'ERR_SIGNED_OUT',
    )
  }
  await clock.advance(3_600_000)
  assert.equal(backend.calls.length, 2, 'no retry storm while signed out')
  source.signedIn()
  assert.equal(typeof (await source.withToken(async (t) => t)), 'string')
  assert.equal(backend.calls.length, 3)
  source.close()
})

test('a 401 on the very first call rejects the caller with SignedOutError', async () => {
  const clock = new FakeClock()
  const backend = fakeBackend(clock, { script: [401] })
  const source = new TokenSource({ endpoint: 'https://app.example/token', fetch: backend.fetch, clock })
  await assert.rejects(source.ready(), SignedOutError)
  await assert.rejects(source.ready(), SignedOutError)
  assert.equal(backend.calls.length, 1)
})

test('cookie mode holds no token: callers get undefined, and a token in the body is dropped', async () => {
  const clock = new FakeClock()
  const exp = clock.serverStartSeconds + 60
  const backend = fakeBackend(clock, { script: [{ expires_at: exp }, { token: 'leaked-token', expires_at: exp }] })
  const source = new TokenSource({
    endpoint: 'https://app.example/token',
    mode: 'cookie',
    fetch: backend.fetch,
    clock,
    autoRefresh: false,
  })
  assert.equal(await source.withToken(async (t) => t), undefined)
  await source.refresh()
  assert.equal(await source.withToken(async (t) => t), undefined)
  assert.equal(source.status, 'fresh')
})
