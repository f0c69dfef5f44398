/**
 * Clients that misbehave on purpose: flooding, never reading, racing messages against a close, or
 * holding a context open and silent. Memory and stream slots must stay bounded.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import type { TestServer } from '../helpers/server.ts'
import { mint } from '../helpers/http.ts'
import { startSpeechServer, raw } from '../helpers/speech.ts'
import { wsUrl } from '../helpers/ws.ts'
import { WsSession } from '../helpers/ws-session.ts'
import { dropPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis.ts'
import { TcpProxy } from '../helpers/tcp-proxy.ts'

let t: TestServer
let voice: string
before(async () => ({ t, voice } = await startSpeechServer({ wsIdleTimeoutMs: 400 })))
after(() => t.close())

const open = (credential = t.apiKey) => WsSession.open(wsUrl(t.url), { authorization: `Bearer ${credential}` })
const gen = (context_id: string, transcript: string, extra: object = {}) => ({
  model_id: 'sonic-3',
  voice,
  output_format: raw('pcm_s16le', 16000),
  context_id,
  transcript,
  ...extra,
})
const pausable = (s: WsSession) => (s.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket

async function until(check: () => boolean, ms = 5000): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(20)) if (check()) return true
  return check()
}

describe('WebSocket abuse', { timeout: 30_000 }, () => {
  test('a text frame that is not UTF-8: every open context gets its terminal event, then close 1007', async () => {
    const s = await open()
    s.send(gen('held', 'waiting', { continue: true }))
    await until(() => t.server.ctx.streams.size >= 2)
    // ws sends a Buffer given as text as it is: an overlong encoding of "/" is invalid UTF-8.
    s.ws.send(Buffer.from([0x7b, 0xc0, 0xaf, 0x7d]), { binary: false })
    const end = await s.end('held')
    assert.equal(end.type, 'error')
    assert.equal(end.error_code, 'invalid_request')
    assert.equal(await s.closed(), 1007)
    assert.ok(await until(() => t.server.ctx.streams.size === 0), 'no stream slot left behind')
  })

  test('a client that sends but never reads is cut off before the server buffers without bound', async () => {
    const s = await open()
    pausable(s).pause()
    // Each bad frame earns an error event; 40 000 of them would be ~12 MB of replies.
    for (let i = 0; i < 40_000; i++) s.send('x')
    const closed = s.closed()
    await sleep(500)
    pausable(s).resume()
    const code = await closed
    // Either the queue passed the 8 MiB cap (1008, or 1006 when the cut beats the close frame), or the
    // server stopped reading first: over TLS, a socket whose output is blocked is not read either, so
    // a client that never reads stalls its own requests, and the idle timeout (400 ms here) closes it
    // with 1000. Which comes first depends on how much the kernel buffers; both bound the memory.
    assert.ok(code === 1008 || code === 1006 || code === 1000, `closed with ${code}`)
    assert.ok(await until(() => t.server.ctx.streams.size === 0), 'no stream slot left behind')
  })

  test('more messages pending than the socket serves: closed with 1008', async () => {
    // Messages pile up when serving each one waits on a dependency: here Redis, reached through a
    // proxy that goes silent, so every stream start waits out its bounded call (1.5 s) meanwhile.
    const redis = new URL(SHARED_REDIS_URL)
    const proxy = await TcpProxy.start({ host: redis.hostname, port: Number(redis.port || 6379) })
    const prefix = uniquePrefix()
    const slow = await startSpeechServer({ redisUrl: proxy.via(SHARED_REDIS_URL).href, redisPrefix: prefix })
    try {
      const s = await WsSession.open(wsUrl(slow.t.url), { authorization: `Bearer ${slow.t.apiKey}` })
      proxy.stall()
      for (let i = 0; i < 400; i++) s.send({ ...gen(`c${i}`, 'Hello.'), voice: slow.voice })
      assert.equal(await s.closed(), 1008)
    } finally {
      // The server's close does not wait on the stalled link beyond one Redis call's bound.
      await slow.t.close()
      await proxy.sever()
      await dropPrefix(SHARED_REDIS_URL, prefix)
    }
  })

  test('messages still queued when the socket goes never open streams for it', async () => {
    const token = await mint(t.url, t.apiKey, { grants: { tts: true }, limits: { concurrent_streams: 1 } })
    const [h, p] = token.split('.')
    const forged = `${h}.${p}.${'A'.repeat(86)}`
    for (let round = 0; round < 3; round++) {
      const s = await open(token)
      for (let i = 0; i < 30; i++) s.send({ type: 'refresh_token', access_token: forged })
      s.send(gen(`late-${round}`, 'kept open', { continue: true }))
      s.ws.terminate()
      await s.closed()
    }
    assert.ok(await until(() => t.server.ctx.streams.size === 0), `${t.server.ctx.streams.size} stream slot(s) leaked`)
    // The token's one stream slot is free again.
    const s = await open(token)
    s.send(gen('after', 'Still allowed.'))
    assert.equal((await s.end('after')).type, 'done')
    s.close()
  })

  test('a context waiting silently for more input does not keep an idle socket open', async () => {
    const s = await open()
    s.send(gen('quiet', 'Done speaking. ', { continue: true }))
    const code = await s.closed()
    assert.equal(code, 1000)
    const last = s.of('quiet').at(-1)
    assert.equal(last.type, 'error')
    assert.equal(last.error_code, 'connection_closing')
  })
})
