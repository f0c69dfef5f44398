import assert from 'node:assert/strict'
import { test } from 'node:test'
import { TokenSource } from '../src/index.ts'
import { fakeBackend } from './helpers/backend.ts'
import { FakeClock } from './helpers/clock.ts'

const grab = (source: TokenSource) => source.withToken(async (t) => t)

test('a 60 s token is refreshed in the background at 75% of its lifetime, well before its last second', async () => {
  const clock = new FakeClock()
  const backend = fakeBackend(clock, { ttl: 60 })
  const source = new TokenSource({ endpoint: 'https://app.example/token', fetch: backend.fetch, clock })
  const first = await grab(source)
  assert.equal(backend.calls.length, 1)
  await clock.advance(44_000)
  assert.equal(backend.calls.length, 1, 'not before the refresh point')
  await clock.advance(1_000)
  assert.equal(backend.calls.length, 2, 'refreshed at 45 s (75% of the 59 s it can count on)')
  const second = await grab(source)
  assert.notEqual(second, first)
  assert.equal(backend.calls.length, 2, 'callers use the refreshed token without another fetch')
  await clock.advance(45_000)
  assert.equal(backend.calls.length, 3, 'and again 45 s after that')
  source.close()
})

test('without background refresh a caller past the refresh point gets the old token while a new one is fetched', async () => {
  const clock = new FakeClock()
  const backend = fakeBackend(clock, { ttl: 60 })
  const source = new TokenSource({
    endpoint: 'https://app.example/token',
    fetch: backend.fetch,
    clock,
    autoRefresh: false,
  })
  const first = await grab(source)
  await clock.advance(40_000)
  assert.equal(await grab(source), first)
  assert.equal(backend.calls.length, 1)
  await clock.advance(6_000) // 46 s: stale, still usable
  assert.equal(await grab(source), first, 'stale token served at once')
  await clock.advance(0)
  assert.equal(backend.calls.length, 2, 'while a refresh runs in the background')
  assert.notEqual(await grab(source), first)
})

test('a token past its usable window is never handed out: the caller waits for a new one', async () => {
  const clock = new FakeClock()
  const backend = fakeBackend(clock, { ttl: 60 })
  const source = new TokenSource({
    endpoint: 'https://app.example/token',
    fetch: backend.fetch,
    clock,
    autoRefresh: false,
  })
  const first = await grab(source)
  await clock.advance(55_000)
  assert.equal(source.status, 'expired')
  assert.notEqual(await grab(source), first)
  assert.equal(backend.calls.length, 2)
})

for (const skew of [-300, 300, 3600]) {
  test(`a client wall clock off by ${skew} s still refreshes on time (lifetime from server times only)`, async () => {
    const clock = new FakeClock(1_800_000_000, skew)
    const backend = fakeBackend(clock, { ttl: 60, jwt: false }) // opaque token: the Date header is the reference
    const source = new TokenSource({ endpoint: 'https://app.example/token', fetch: backend.fetch, clock })
    await grab(source)
    assert.equal(source.status, 'fresh')
    await clock.advance(44_000)
    assert.equal(backend.calls.length, 1)
    await clock.advance(1_000)
    assert.equal(backend.calls.length, 2)
    source.close()
  })
}

test('the lifetime comes from issued_at, else the JWT iat/exp, else the Date header', async () => {
  for (const opts of [
    { issuedAt: true, date: false },
    { jwt: true, date: false },
    { jwt: false, date: true },
  ]) {
    const clock = new FakeClock(1_800_000_000, 900)
    const backend = fakeBackend(clock, { ttl: 60, ...opts })
    const source = new TokenSource({ endpoint: 'https://app.example/token', fetch: backend.fetch, clock })
    await grab(source)
    await clock.advance(45_000)
    assert.equal(backend.calls.length, 2, JSON.stringify(opts))
    source.close()
  }
})

test('a 2 s token (whole-second times lose up to 1 s) is refreshed after 0.75 s', async () => {
  const clock = new FakeClock()
  const backend = fakeBackend(clock, { ttl: 2 })
  const source = new TokenSource({ endpoint: 'https://app.example/token', fetch: backend.fetch, clock })
  await grab(source)
  await clock.advance(700)
  assert.equal(backend.calls.length, 1)
  await clock.advance(100)
  assert.equal(backend.calls.length, 2)
  source.close()
})

test('a paused monotonic clock (laptop asleep) is covered by the elapsed wall time', async () => {
  const clock = new FakeClock()
  const backend = fakeBackend(clock, { ttl: 60 })
  const source = new TokenSource({
    endpoint: 'https://app.example/token',
    fetch: backend.fetch,
    clock,
    autoRefresh: false,
  })
  const first = await grab(source)
  clock.wall += 10 * 60_000 // ten minutes of sleep the monotonic clock did not see
  assert.equal(source.status, 'expired')
  assert.notEqual(await grab(source), first)
})

test('close() stops the background timer', async () => {
  const clock = new FakeClock()
  const backend = fakeBackend(clock, { ttl: 60 })
  const source = new TokenSource({ endpoint: 'https://app.example/token', fetch: backend.fetch, clock })
  await grab(source)
  source.close()
  await clock.advance(600_000)
  assert.equal(backend.calls.length, 1)
  assert.equal(clock.pendingTimers, 0)
})
