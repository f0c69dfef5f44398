import { after, afterEach, before, describe, mock, test } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import type { RawData } from 'ws'
import { VoxgateError } from '@voxgate/protocol'
import { MAX_PENDING_MESSAGES, STT_SOCKET } from '../../src/sockets/life.ts'
import { messages, pair, startLab, stopLab } from './lab.ts'

before(startLab)
after(stopLab)
afterEach(() => mock.timers.reset())

describe('the socket life: states and teardown', () => {
  test('open, then closing (terminal event before the close frame, teardown once), then closed', async () => {
    const p = await pair()
    assert.equal(p.life.state, 'open')
    p.client.send('hello')
    await messages(p, 1)
    assert.deepEqual(p.heard.messages, ['hello'])
    p.life.close(4401, new VoxgateError('token_revoked', 'Revoked.'))
    assert.equal(p.life.state, 'closing')
    assert.equal(p.heard.teardowns, 1)
    // A second close is no close: no second terminal event, no second teardown.
    p.life.close(1000, new VoxgateError('connection_closing', 'Again.'))
    await p.clientClosed
    await once(p.server, 'close')
    assert.equal(p.life.state, 'closed')
    assert.deepEqual(p.received, ['terminal token_revoked', 'close 4401 token_revoked'])
    assert.deepEqual(
      p.heard.closing.map((e) => e?.code),
      ['token_revoked'],
    )
    assert.equal(p.heard.teardowns, 1)
    assert.deepEqual(p.heard.closes, [['tts', 4401]])
  })

  test('an STT socket sends the close code without a reason; a normal end has no terminal error', async () => {
    const p = await pair({ kind: STT_SOCKET })
    p.life.close(1000)
    await p.clientClosed
    assert.deepEqual(p.received, ['terminal none', 'close 1000 '])
    await once(p.server, 'close')
    assert.deepEqual(p.heard.closes, [['stt', 1000]])
  })

  test('the peer closing tears down once, with no terminal events (nobody is there to read them)', async () => {
    const p = await pair()
    p.client.close(1000)
    await once(p.server, 'close')
    assert.equal(p.life.state, 'closed')
    assert.deepEqual(p.heard.closing, [])
    assert.equal(p.heard.teardowns, 1)
    assert.deepEqual(p.heard.closes, [['tts', 1000]])
    // Closing what is gone does nothing.
    p.life.close(1000, new VoxgateError('connection_closing', 'Late.'))
    assert.equal(p.heard.teardowns, 1)
  })

  test('messages after the close began are not handed to the role', async () => {
    const p = await pair()
    p.life.close(1000, new VoxgateError('connection_closing', 'Bye.'))
    p.client.send('late')
    await p.clientClosed
    assert.deepEqual(p.heard.messages, [])
  })

  test('a handed-over socket stays open, its old role hears nothing more, and nothing is counted twice', async () => {
    const p = await pair()
    p.life.handOver()
    assert.equal(p.life.state, 'closed')
    assert.equal(p.heard.teardowns, 1)
    p.client.send('for the successor')
    p.server.once('message', (data: RawData) => p.server.send(`echo ${data}`))
    await new Promise<void>((resolve) => p.client.once('message', () => resolve()))
    assert.deepEqual(p.heard.messages, [])
    assert.deepEqual(p.received, ['echo for the successor'])
    p.client.close(1000)
    await once(p.server, 'close')
    assert.deepEqual(p.heard.closes, [])
    assert.equal(p.heard.teardowns, 1)
  })
})

describe('the socket life: inbox', () => {
  test('handles messages one after another, in order, across awaits', async () => {
    const p = await pair()
    const order: string[] = []
    let release = () => {}
    const first = new Promise<void>((resolve) => (release = resolve))
    p.life.serve(
      async () => {
        await first
        order.push('first')
      },
      () => undefined,
    )
    p.life.serve(
      async () => {
        order.push('second')
      },
      () => undefined,
    )
    await new Promise((resolve) => setImmediate(resolve))
    assert.deepEqual(order, [])
    release()
    await new Promise((resolve) => setImmediate(resolve))
    assert.deepEqual(order, ['first', 'second'])
    p.life.close(1000)
    await p.clientClosed
  })

  test('a handler that throws reaches onError, and the next one still runs', async () => {
    const p = await pair()
    const errors: unknown[] = []
    p.life.serve(
      async () => {
        throw new VoxgateError('invalid_request', 'Bad.')
      },
      (err) => errors.push(err),
    )
    let ran = false
    p.life.serve(
      async () => {
        ran = true
      },
      (err) => errors.push(err),
    )
    await new Promise((resolve) => setImmediate(resolve))
    assert.deepEqual(
      errors.map((e) => (e as VoxgateError).code),
      ['invalid_request'],
    )
    assert.equal(ran, true)
    p.life.close(1000)
    await p.clientClosed
  })

  test(`${MAX_PENDING_MESSAGES} messages may wait; one more closes 1008 rate_limited and resets the connection`, async () => {
    const p = await pair()
    const never = new Promise<void>(() => undefined)
    for (let i = 0; i < MAX_PENDING_MESSAGES; i++)
      p.life.serve(
        () => never,
        () => undefined,
      )
    assert.equal(p.life.state, 'open')
    p.life.serve(
      () => never,
      () => undefined,
    )
    assert.equal(p.life.state, 'closing')
    assert.deepEqual(
      p.heard.closing.map((e) => e?.code),
      ['rate_limited'],
    )
    assert.equal(p.tcp.destroyed, true)
    await p.clientClosed
    assert.equal(p.heard.teardowns, 1)
  })
})
