import assert from 'node:assert/strict'
import { test } from 'node:test'
import { TokenSource, type TokenAnswer } from '../src/index.ts'
import { fakeBackend } from './helpers/backend.ts'
import { FakeClock, settle } from './helpers/clock.ts'

function deferred<T>() {
  let resolve!: (v: T) => void
  const promise = new Promise<T>((r) => {
    resolve = r
  })
  return { promise, resolve }
}

test('concurrent callers share one backend fetch', async () => {
  const clock = new FakeClock()
  const backend = fakeBackend(clock, { ttl: 60 })
  const source = new TokenSource({
    endpoint: 'https://app.example/token',
    fetch: backend.fetch,
    clock,
    autoRefresh: false,
  })
  const got = await Promise.all(Array.from({ length: 20 }, () => source.withToken(async (t) => t)))
  assert.equal(backend.calls.length, 1)
  assert.equal(new Set(got).size, 1)
  assert.equal(got[0], backend.tokens[0])
})

test('the backend call is a same-origin JSON POST', async () => {
  const clock = new FakeClock()
  const backend = fakeBackend(clock)
  const source = new TokenSource({
    endpoint: 'https://app.example/token',
    fetch: backend.fetch,
    clock,
    body: { grants: ['tts'] },
    autoRefresh: false,
  })
  await source.ready()
  const init = backend.calls[0]?.init
  assert.equal(init?.method, 'POST')
  assert.equal(init?.credentials, 'same-origin')
  assert.equal((init?.headers as Record<string, string> | undefined)?.['content-type'], 'application/json')
  assert.equal(init?.body, JSON.stringify({ grants: ['tts'] }))
})

test('a slow old answer never replaces a newer token', async () => {
  const clock = new FakeClock()
  const answers = [deferred<TokenAnswer>(), deferred<TokenAnswer>()]
  let n = 0
  const source = new TokenSource({
    fetchToken: () => (answers[n++] as ReturnType<typeof deferred<TokenAnswer>>).promise,
    clock,
    autoRefresh: false,
  })
  const exp = clock.serverStartSeconds + 60
  const waiting = source.withToken(async (t) => t) // starts fetch #1 (slow)
  await settle()
  const newer = source.refresh() // fetch #2 supersedes it
  answers[1]?.resolve({ token: 'token-new', expires_at: exp, issued_at: clock.serverStartSeconds })
  await newer
  answers[0]?.resolve({ token: 'token-old', expires_at: exp, issued_at: clock.serverStartSeconds })
  assert.equal(await waiting, 'token-new', 'the waiting caller gets the newest token')
  await settle()
  assert.equal(await source.withToken(async (t) => t), 'token-new', 'the late answer was discarded')
  assert.equal(n, 2)
})

test('a 401 from the voice API refreshes once and retries once', async () => {
  const { ApiError } = await import('../src/index.ts')
  const clock = new FakeClock()
  const backend = fakeBackend(clock, { ttl: 60 })
  const source = new TokenSource({
    endpoint: 'https://app.example/token',
    fetch: backend.fetch,
    clock,
    autoRefresh: false,
  })
  const seen: (string | undefined)[] = []
  const result = await source.withToken(async (t) => {
    seen.push(t)
    if (seen.length === 1) throw new ApiError('ERR_TOKEN_EXPIRED', 'expired', 401, 'token_expired', 'r1', false)
    return 'ok'
  })
  assert.equal(result, 'ok')
  assert.equal(backend.calls.length, 2)
  assert.notEqual(seen[0], seen[1])

  const always401 = source.withToken(async () => {
    throw new ApiError('ERR_TOKEN_REVOKED', 'revoked', 401, 'token_revoked', 'r2', false)
  })
  await assert.rejects(always401, (err: InstanceType<typeof ApiError>) => err.code === 'ERR_TOKEN_REVOKED')
  assert.equal(backend.calls.length, 3, 'one refresh, one retry, then the error: no storm')
})

test('concurrent 401s on the same token share one refresh', async () => {
  const { ApiError } = await import('../src/index.ts')
  const clock = new FakeClock()
  const backend = fakeBackend(clock, { ttl: 60 })
  const source = new TokenSource({
    endpoint: 'https://app.example/token',
    fetch: backend.fetch,
    clock,
    autoRefresh: false,
  })
  await source.ready()
  const first = backend.tokens[0]
  const results = await Promise.all(
    Array.from({ length: 5 }, () =>
      source.withToken(async (t) => {
        if (t === first) throw new ApiError('ERR_TOKEN_EXPIRED', 'expired', 401, 'token_expired', 'r', false)
        return t
      }),
    ),
  )
  assert.equal(backend.calls.length, 2)
  assert.deepEqual(new Set(results), new Set([backend.tokens[1]]))
})
