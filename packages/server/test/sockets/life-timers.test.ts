import { after, afterEach, before, describe, mock, test } from 'node:test'
import assert from 'node:assert/strict'
import { VoxgateError } from '@voxgate/protocol'
import { REVOKED_GRACE_MS } from '../../src/sockets/hard-close.ts'
import { STT_SOCKET } from '../../src/sockets/life.ts'
import { ManualClock } from '../helpers/clock.ts'
import { GRACE_MS, IDLE_MS, messages, pair, revocations, startLab, stopLab, streams, token } from './lab.ts'

before(startLab)
after(stopLab)
afterEach(() => mock.timers.reset())

describe('the socket life: timers on a controlled clock', () => {
  test('idle for wsIdleTimeoutMs closes 1000 connection_closing; a client message starts the wait again', async () => {
    const p = await pair({ timers: true })
    mock.timers.tick(IDLE_MS - 1)
    p.client.send('still here')
    await messages(p, 1)
    mock.timers.tick(IDLE_MS - 1)
    assert.equal(p.life.state, 'open')
    mock.timers.tick(1)
    assert.equal(p.life.state, 'closing')
    assert.deepEqual(
      p.heard.closing.map((e) => e?.code),
      ['connection_closing'],
    )
    await p.clientClosed
    assert.deepEqual(p.received, ['terminal connection_closing', 'close 1000 connection_closing'])
  })

  test('a busy role keeps an idle socket open; touch() counts as activity', async () => {
    const p = await pair({ timers: true })
    p.busy.value = true
    mock.timers.tick(IDLE_MS * 3)
    assert.equal(p.life.state, 'open')
    p.busy.value = false
    mock.timers.tick(IDLE_MS - 1)
    p.life.touch()
    mock.timers.tick(IDLE_MS - 1)
    assert.equal(p.life.state, 'open')
    mock.timers.tick(1)
    assert.equal(p.life.state, 'closing')
    await p.clientClosed
  })

  test("a token's socket ends at its expiry plus the session grace: 4401 token_expired, with the kind's hint", async () => {
    const clock = new ManualClock()
    const p = await pair({ timers: true, clock, principal: token(clock, 10), kind: STT_SOCKET })
    mock.timers.tick(10_000 + GRACE_MS - 1)
    assert.equal(p.life.state, 'open')
    mock.timers.tick(1)
    assert.equal(p.life.state, 'closing')
    const [err] = p.heard.closing
    assert.equal(err?.code, 'token_expired')
    assert.equal(err?.message, 'The access token expired; open a new socket with a fresh token.')
    await p.clientClosed
    assert.deepEqual(p.received, ['terminal token_expired', 'close 4401 '])
  })

  test('renew() moves the deadline to the fresh token', async () => {
    const clock = new ManualClock()
    const p = await pair({ timers: true, clock, principal: token(clock, 10) })
    // Only the session timer is looked at here.
    p.busy.value = true
    clock.advance(5_000)
    mock.timers.tick(5_000)
    p.life.renew(token(clock, 60))
    mock.timers.tick(5_000 + GRACE_MS)
    assert.equal(p.life.state, 'open', 'past the old deadline')
    mock.timers.tick(55_000 - 1)
    assert.equal(p.life.state, 'open')
    mock.timers.tick(1)
    assert.equal(p.heard.closing[0]?.code, 'token_expired')
    assert.equal(
      p.heard.closing[0]?.message,
      'The access token expired; send a refresh_token message to extend the socket.',
    )
    await p.clientClosed
  })

  test('a socket on an API key has no deadline', async () => {
    const q = await pair({ timers: true })
    q.busy.value = true
    mock.timers.tick(10 * 365 * 86_400_000)
    assert.equal(q.life.state, 'open')
    q.life.close(1000)
    await q.clientClosed
  })
})

describe('the socket life: revocation', () => {
  test('a TTS socket watches its credential: a revocation closes it 4401 token_revoked, then the connection is cut', async () => {
    const clock = new ManualClock()
    const principal = token(clock, 3600)
    const p = await pair({ timers: true, clock, principal })
    revocations.add({ kind: 'jti', jti: principal.jti, expiresAt: Date.now() + 3_600_000 })
    streams.sweep()
    assert.equal(p.life.state, 'closing')
    assert.deepEqual(
      p.heard.closing.map((e) => e?.code),
      ['token_revoked'],
    )
    await p.clientClosed
    assert.deepEqual(p.received, ['terminal token_revoked', 'close 4401 token_revoked'])
    mock.timers.tick(REVOKED_GRACE_MS)
    assert.equal(p.tcp.destroyed, true)
  })

  test('after a renew the old credential is no longer watched, the fresh one is', async () => {
    const clock = new ManualClock()
    const old = token(clock, 3600)
    const p = await pair({ clock, principal: old })
    const fresh = token(clock, 3600)
    p.life.renew(fresh)
    revocations.add({ kind: 'jti', jti: old.jti, expiresAt: Date.now() + 3_600_000 })
    streams.sweep()
    assert.equal(p.life.state, 'open')
    revocations.add({ kind: 'jti', jti: fresh.jti, expiresAt: Date.now() + 3_600_000 })
    streams.sweep()
    assert.equal(p.life.state, 'closing')
    await p.clientClosed
  })

  test("an STT socket is revoked through its stream's lease (revoked()); the server's shutdown closes 1001", async () => {
    const clock = new ManualClock()
    const principal = token(clock, 3600)
    const p = await pair({ clock, principal, kind: STT_SOCKET })
    revocations.add({ kind: 'jti', jti: principal.jti, expiresAt: Date.now() + 3_600_000 })
    streams.sweep()
    assert.equal(p.life.state, 'open', 'the life does not watch: the lease does')
    p.life.revoked(new VoxgateError('token_revoked', 'Revoked.'))
    await p.clientClosed
    assert.deepEqual(p.received, ['terminal token_revoked', 'close 4401 '])
    const q = await pair({ kind: STT_SOCKET })
    q.life.revoked(new VoxgateError('connection_closing', 'The server is shutting down.'))
    await q.clientClosed
    assert.deepEqual(q.received, ['terminal connection_closing', 'close 1001 '])
  })

  test('a registry lists the socket while it lives; shutdown() closes it 1001', async () => {
    const registry = new Set<{ shutdown(): void }>()
    const p = await pair({ kind: STT_SOCKET, registry })
    const life = p.life
    assert.deepEqual([...registry], [life])
    for (const s of [...registry]) s.shutdown()
    assert.equal(registry.size, 0)
    await p.clientClosed
    assert.deepEqual(p.received, ['terminal connection_closing', 'close 1001 '])
  })
})
