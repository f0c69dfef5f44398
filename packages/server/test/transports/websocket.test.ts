import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { startSpeechServer, raw } from '../helpers/speech.ts'
import { wsUrl } from '../helpers/ws.ts'
import { WsSession } from '../helpers/ws-session.ts'

let t: TestServer
let voice: string
before(async () => ({ t, voice } = await startSpeechServer({ wsMaxContexts: 4, wsMaxPayloadBytes: 4096 })))
after(() => t.close())

const open = () => WsSession.open(wsUrl(t.url), { authorization: `Bearer ${t.apiKey}` })
const gen = (context_id: string, transcript: string, extra: object = {}) => ({
  model_id: 'sonic-3',
  voice,
  output_format: raw('pcm_s16le', 16000),
  context_id,
  transcript,
  ...extra,
})
const audioBytes = (events: any[]) =>
  Buffer.concat(events.filter((e) => e.type === 'chunk').map((e) => Buffer.from(e.data, 'base64'))).length
const WORD_BYTES = 960 * 2

describe('/tts/websocket', () => {
  test('one request, one context: chunks then done, all with context_id', async () => {
    const s = await open()
    s.send(gen('a', 'One two three.'))
    assert.equal((await s.end('a')).type, 'done')
    assert.equal(audioBytes(s.of('a')), 3 * WORD_BYTES)
    assert.ok(s.of('a').every((e) => e.status_code === 206))
    s.close()
  })

  test('contexts are multiplexed on one socket', async () => {
    const s = await open()
    s.send(gen('x', 'Alpha beta gamma delta.'))
    s.send(gen('y', 'One two.'))
    await Promise.all([s.end('x'), s.end('y')])
    assert.equal(audioBytes(s.of('x')), 4 * WORD_BYTES)
    assert.equal(audioBytes(s.of('y')), 2 * WORD_BYTES)
    s.close()
  })

  test('continue: transcripts are concatenated as sent; incomplete sentences wait; end of input speaks the rest', async () => {
    const s = await open()
    s.send(gen('c', 'Hel', { continue: true, add_timestamps: true }))
    s.send(gen('c', 'lo there. And th', { continue: true, add_timestamps: true }))
    await s.next((e) => e.context_id === 'c' && e.type === 'timestamps')
    s.send(gen('c', 'en more', { continue: true, add_timestamps: true }))
    s.send(gen('c', '', { continue: false, add_timestamps: true }))
    await s.end('c')
    const words = s
      .of('c')
      .filter((e) => e.type === 'timestamps')
      .flatMap((e) => e.word_timestamps.words)
    assert.deepEqual(words, ['Hello', 'there.', 'And', 'then', 'more'])
    const starts = s
      .of('c')
      .filter((e) => e.type === 'timestamps')
      .flatMap((e) => e.word_timestamps.start)
    assert.deepEqual(
      starts.map((x: number) => Math.round(x * 1000)),
      [0, 60, 120, 180, 240],
      'timestamps run on across segments',
    )
    s.close()
  })

  test('flush: the segment is spoken at once, chunks carry flush_id, flush_done acknowledges', async () => {
    const s = await open()
    s.send(gen('f', 'no sentence end yet', { continue: true }))
    s.send(gen('f', '', { continue: true, flush: true }))
    const ack = await s.next((e) => e.context_id === 'f' && e.type === 'flush_done')
    assert.deepEqual(ack, {
      type: 'flush_done',
      done: false,
      flush_done: true,
      flush_id: 1,
      status_code: 206,
      context_id: 'f',
    })
    const before = s.of('f').filter((e) => e.type === 'chunk')
    assert.equal(audioBytes(before), 4 * WORD_BYTES)
    assert.ok(before.every((e) => e.flush_id === 1))
    s.send(gen('f', 'second part', { continue: true, flush: true }))
    await s.next((e) => e.context_id === 'f' && e.type === 'flush_done' && e.flush_id === 2)
    s.send(gen('f', '', { continue: false }))
    await s.end('f')
    assert.ok(
      s
        .of('f')
        .filter((e) => e.type === 'chunk')
        .slice(4)
        .every((e) => e.flush_id === 2),
    )
    s.close()
  })

  test('max_buffer_delay_ms: an incomplete sentence is spoken after the delay', async () => {
    const s = await open()
    s.send(gen('d', 'waiting for more', { continue: true, max_buffer_delay_ms: 0 }))
    const first = await s.next((e) => e.context_id === 'd' && e.type === 'chunk')
    assert.equal(first.flush_id, 1)
    s.send({ context_id: 'd', cancel: true })
    await s.end('d')
    s.close()
  })

  test('cancel ends the context with done; other contexts go on', async () => {
    const s = await open()
    s.send(gen('k', 'kept open', { continue: true }))
    s.send(gen('z', 'Other context.'))
    s.send({ context_id: 'k', cancel: true })
    assert.equal((await s.end('k')).type, 'done')
    assert.equal((await s.end('z')).type, 'done')
    s.close()
  })

  test('errors carry context_id, title, message, error_code and done: true; the socket stays open', async () => {
    const s = await open()
    s.send(gen('e', 'hi', { voice: 'no-such-voice' }))
    const err = await s.end('e')
    assert.equal(err.type, 'error')
    assert.equal(err.error_code, 'voice_not_found')
    assert.equal(err.status_code, 404)
    assert.equal(typeof err.title, 'string')
    assert.equal(typeof err.message, 'string')
    assert.equal(err.done, true)
    s.send(gen('m', 'hi', { model_id: 'nope' }))
    assert.equal((await s.end('m')).error_code, 'model_not_found')
    s.send(gen('ok', 'still works.'))
    assert.equal((await s.end('ok')).type, 'done')
    s.close()
  })

  test('not JSON, binary frames and bad messages get error events without closing', async () => {
    const s = await open()
    s.send('{oops')
    assert.equal((await s.next((e) => e.type === 'error')).error_code, 'invalid_request')
    s.ws.send(Buffer.from([1, 2, 3]), { binary: true })
    await s.next((e) => e.type === 'error' && /text frames/.test(e.message))
    s.send({ context_id: 'v', transcript: 'no model' })
    assert.equal((await s.end('v')).error_code, 'invalid_request')
    s.send(gen('after', 'fine.'))
    assert.equal((await s.end('after')).type, 'done')
    s.close()
  })

  test('message size limit: at the limit passes, one byte more is message_too_large', async () => {
    const s = await open()
    const base = JSON.stringify(gen('big', ''))
    const pad = (n: number) => JSON.stringify(gen('big', 'a'.repeat(n - base.length)))
    s.send(pad(4096))
    assert.equal((await s.end('big')).type, 'done')
    s.send(pad(4097))
    const err = await s.next((e) => e.error_code === 'message_too_large')
    assert.equal(err.done, true)
    s.send(gen('small', 'ok.'))
    assert.equal((await s.end('small')).type, 'done')
    s.close()
  })

  test('contexts per socket: the limit passes, one more is too_many_contexts', async () => {
    const s = await open()
    for (const id of ['1', '2', '3', '4']) s.send(gen(id, 'open', { continue: true }))
    s.send(gen('5', 'open', { continue: true }))
    const err = await s.end('5')
    assert.equal(err.error_code, 'too_many_contexts')
    s.send({ context_id: '1', cancel: true })
    await s.end('1')
    s.send(gen('6', 'now fits.'))
    assert.equal((await s.end('6')).type, 'done')
    s.close()
  })

  test('server shutdown sends a terminal event to every open context before closing', async () => {
    const own = await startTestServer()
    const s = await WsSession.open(wsUrl(own.url), { authorization: `Bearer ${own.apiKey}` })
    s.send(gen('open1', 'still typing', { continue: true }))
    s.send(gen('open2', 'also typing', { continue: true }))
    await s.next((e) => e.type === 'chunk' || e.type === 'error').catch(() => undefined)
    await own.close()
    const code = await s.closed()
    assert.equal(code, 1001)
    for (const id of ['open1', 'open2']) {
      const last = s.of(id).at(-1)
      assert.equal(last.type, 'error')
      assert.equal(last.error_code, 'connection_closing')
    }
  })

  test('idle sockets are closed after wsIdleTimeoutMs', async () => {
    const own = await startTestServer({ wsIdleTimeoutMs: 200 })
    const s = await WsSession.open(wsUrl(own.url), { authorization: `Bearer ${own.apiKey}` })
    assert.equal(await s.closed(), 1000)
    await own.close()
  })
})
