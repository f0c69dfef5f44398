/**
 * The WebSocket relay against a recording fake upstream (the network edge, faked so each failure can
 * be staged): handshake hygiene, refused and timed-out upstream handshakes, an upstream that drops
 * mid-stream, revocation cancelling upstream, a characters budget across contexts, refused messages
 * never forwarded, and a client that stops reading. Every test ends with no socket left open upstream.
 * Over 400 lines: every case stages its own failure on the one recording upstream and shares its
 * handshake helpers; the budget and refusal cases are the first to move out if it grows.
 */
import { after, afterEach, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { countCharacters } from '@voxgate/protocol'
import { FakeUpstream, FAKE_CHUNK } from '../helpers/fake-upstream.ts'
import { bearer, call, mint } from '../helpers/http.ts'
import { ttsBody } from '../helpers/security.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { handshake, wsUrl } from '../helpers/ws.ts'
import { WsSession } from '../helpers/ws-session.ts'

const UPSTREAM_KEY = 'sk_car_fake_upstream_key_do_not_leak_0123456789'
/** Upstream voice ids: the gateway has no catalogue of them and must not need one. */
const VOICE = 'upstream-voice-1'
let fake: FakeUpstream
let gw: TestServer
const tokens: string[] = []

before(async () => {
  fake = await FakeUpstream.start()
  // Each failure staged here is tested on its own: the circuit breaker (circuit-breaker.test.ts) stays out of it.
  gw = await startTestServer({
    upstreamUrl: fake.url,
    upstreamApiKey: UPSTREAM_KEY,
    upstreamTimeoutMs: 1000,
    upstreamFailureThreshold: 1000,
  })
})
afterEach(async () => {
  // No leaked sockets: whatever a test opened upstream is closed once its client is gone.
  await fake.until(() => fake.open === 0)
  fake.mode = 'accept'
  fake.onMessage = undefined
})
after(async () => {
  const logs = gw.logs.text()
  assert.ok(!logs.includes(UPSTREAM_KEY), 'the upstream key is in the logs')
  for (const t of tokens) assert.ok(!logs.includes(t), 'a client token is in the logs')
  await gw.close()
  await fake.close()
})

async function token(extra: Record<string, unknown> = {}): Promise<string> {
  const t = await mint(gw.url, gw.apiKey, { grants: { tts: true }, expires_in: 600, ...extra })
  tokens.push(t)
  return t
}
const openSession = async (tok: string): Promise<WsSession> => WsSession.open(wsUrl(gw.url), bearer(tok))
const lastConnection = () => fake.connections.at(-1)!

describe('handshake', () => {
  test("the upstream gets its key in a header, the client's Cartesia-Version and query, and nothing of the client's credential, cookie or Origin", async () => {
    const tok = await token()
    const h = await handshake(
      wsUrl(gw.url, `?cartesia_version=2026-08-14&access_token=${tok}&cartesia_client=test%2F1`),
      {
        origin: 'https://app.example',
        cookie: 'session=abc; voxgate_token=def',
        'cartesia-version': '2025-11-04',
      },
    )
    assert.equal(h.status, 101, h.body)
    const conn = lastConnection()
    assert.equal(conn.headers['x-api-key'], UPSTREAM_KEY)
    assert.equal(conn.headers['cartesia-version'], '2025-11-04')
    for (const name of ['authorization', 'cookie', 'origin']) assert.equal(conn.headers[name], undefined, name)
    const url = new URL(conn.url, 'http://upstream')
    assert.equal(url.pathname, '/tts/websocket')
    assert.deepEqual([...url.searchParams.keys()].sort(), ['cartesia_client', 'cartesia_version'])
    assert.equal(url.searchParams.get('cartesia_version'), '2026-08-14')
    h.ws!.close()
  })

  test('a Bearer header is not forwarded either, and a message goes upstream as voxgate read it, every field kept', async () => {
    const s = await openSession(await token())
    const conn = lastConnection()
    assert.equal(conn.headers.authorization, undefined)
    const sent = {
      ...ttsBody(VOICE, 'Hello <break time="1s"/> there.'),
      voice: { mode: 'id', id: VOICE },
      context_id: 'c1',
      future_field: 7,
    }
    s.send(sent)
    const end = await s.end('c1')
    assert.equal(end.type, 'done')
    assert.deepEqual(conn.messages, [sent])
    assert.equal(s.of('c1').filter((e) => e.type === 'chunk')[0].data, FAKE_CHUNK)
    s.close()
  })

  test("what goes upstream is the checked message re-serialized, not the client's bytes", async () => {
    const s = await openSession(await token())
    const conn = lastConnection()
    const msg = { ...ttsBody(VOICE, 'Hi \u00e9.'), context_id: 'r1' }
    // Spacing and an escaped key: another JSON reader could differ on neither, but only voxgate's reading goes.
    const sent = JSON.stringify(msg, null, 2).replace('"transcript"', '"tr\\u0061nscript"')
    try {
      s.ws.send(sent)
      assert.equal((await s.end('r1')).type, 'done')
      assert.deepEqual(conn.texts, [JSON.stringify(msg)])
    } finally {
      s.close()
    }
  })

  for (const [name, text, key] of [
    [
      'a second voice (the token allows the last)',
      `{"model_id":"sonic-3","voice":"other-voice","transcript":"Hi.","voice":"${VOICE}","context_id":"d1","output_format":{"container":"raw","encoding":"pcm_s16le","sample_rate":16000}}`,
      'voice',
    ],
    [
      'a second transcript (the short one counted, the long one spoken)',
      `{"model_id":"sonic-3","voice":"${VOICE}","transcript":"${'x'.repeat(1000)}","context_id":"d1","transcript":"short","output_format":{"container":"raw","encoding":"pcm_s16le","sample_rate":16000}}`,
      'transcript',
    ],
    [
      'a key twice inside output_format',
      `{"model_id":"sonic-3","voice":"${VOICE}","transcript":"Hi.","context_id":"d1","output_format":{"container":"raw","encoding":"pcm_s16le","sample_rate":16000,"sample_rate":8000}}`,
      'sample_rate',
    ],
  ] as const) {
    test(`a message with ${name}: an error event naming the key, and nothing reaches the upstream`, async () => {
      const s = await openSession(await token({ limits: { voices: [VOICE], characters: 100 } }))
      const conn = lastConnection()
      try {
        s.ws.send(text)
        const end = await s.end('d1')
        assert.equal(end.error_code, 'invalid_request')
        assert.match(end.message, new RegExp(`"${key}" twice`))
        s.send({ ...ttsBody(VOICE, 'Fine.'), context_id: 'ok' })
        assert.equal((await s.end('ok')).type, 'done')
        assert.deepEqual(
          conn.messages.map((m) => m.context_id),
          ['ok'],
        )
      } finally {
        s.close()
      }
    })
  }

  for (const [status, code] of [
    [500, 'upstream_error'],
    [503, 'upstream_error'],
    [401, 'upstream_unauthorized'],
    [403, 'upstream_unauthorized'],
  ] as const) {
    test(`an upstream that refuses the socket with ${status}: the client's handshake is refused 502 ${code}`, async () => {
      fake.mode = { status, body: JSON.stringify({ error_code: 'x', message: `no, ${UPSTREAM_KEY}` }) }
      const h = await handshake(wsUrl(gw.url), bearer(await token()))
      assert.equal(h.status, 502)
      assert.equal(JSON.parse(h.body).error_code, code)
      assert.ok(!h.body.includes(UPSTREAM_KEY))
    })
  }

  test('an upstream 429 on the socket passes through with its code, cleaned of the key', async () => {
    fake.mode = {
      status: 429,
      body: JSON.stringify({
        error_code: 'concurrency_limited',
        title: 'Too many',
        message: `slow down ${UPSTREAM_KEY}`,
      }),
      headers: ['Retry-After: 3', 'X-Other: no'],
    }
    const h = await handshake(wsUrl(gw.url), bearer(await token()))
    assert.equal(h.status, 429)
    const body = JSON.parse(h.body)
    assert.equal(body.error_code, 'concurrency_limited')
    assert.equal(h.headers['retry-after'], '3', 'the retry hint travels on')
    assert.equal(h.headers['x-other'], undefined)
    assert.ok(!h.body.includes(UPSTREAM_KEY))
  })

  test('a Cartesia-Version that is not a date (header or query) refuses the handshake 400 invalid_request; the upstream never hears of it', async () => {
    const before = fake.connections.length
    for (const [search, headers] of [
      ['', { 'cartesia-version': 'x' }],
      ['?cartesia_version=2025-04-16%0d%0aX-Injected:%201', {}],
    ] as const) {
      const h = await handshake(wsUrl(gw.url, search), { ...bearer(await token()), ...headers })
      h.ws?.close()
      assert.deepEqual([h.status, h.body && JSON.parse(h.body).error_code], [400, 'invalid_request'])
    }
    assert.equal(fake.connections.length, before)
  })

  test('an upstream that never answers the handshake: 504 upstream_timeout', async () => {
    fake.mode = 'hang'
    const h = await handshake(wsUrl(gw.url), bearer(await token()))
    assert.equal(h.status, 504)
    assert.equal(JSON.parse(h.body).error_code, 'upstream_timeout')
  })

  test('a client refused by voxgate never reaches the upstream (the same answers as a local socket)', async () => {
    const before = fake.connections.length
    const refused = async (headers: Record<string, string>) => {
      const h = await handshake(wsUrl(gw.url), headers)
      return [h.status, JSON.parse(h.body).error_code]
    }
    assert.deepEqual(await refused({}), [401, 'missing_credentials'])
    assert.deepEqual(await refused(bearer('eyJ.not.a-token')), [401, 'invalid_credentials'])
    assert.deepEqual(await refused(bearer(await token({ grants: { stt: true } }))), [403, 'insufficient_scope'])
    const bound = await token({ limits: { origins: ['https://app.example'] } })
    assert.deepEqual(await refused({ ...bearer(bound), origin: 'https://evil.example' }), [403, 'origin_not_allowed'])
    const revoked = await token()
    assert.equal(
      (await call(gw.url, '/access-token/revoke', { headers: bearer(gw.apiKey), body: { token: revoked } })).status,
      200,
    )
    assert.deepEqual(await refused(bearer(revoked)), [401, 'token_revoked'])
    assert.equal(fake.connections.length, before)
  })
})

describe('relayed contexts', () => {
  test('an upstream that drops the socket mid-stream: every open context gets upstream_error, then close 1011', async () => {
    fake.onMessage = () => undefined
    const s = await openSession(await token())
    const conn = lastConnection()
    for (const id of ['a', 'b']) s.send({ ...ttsBody(VOICE, 'Some words. '), context_id: id, continue: true })
    await fake.until(() => conn.messages.length === 2)
    conn.ws.send(
      JSON.stringify({ type: 'chunk', data: FAKE_CHUNK, done: false, status_code: 206, step_time: 1, context_id: 'a' }),
    )
    await s.next((e) => e.type === 'chunk')
    conn.ws.terminate()
    assert.equal(await s.closed(), 1011)
    for (const id of ['a', 'b']) {
      const end = await s.end(id)
      assert.deepEqual([end.type, end.error_code, end.done], ['error', 'upstream_error', true])
    }
  })

  test('an upstream error event is relayed cleaned of the key and ends its context', async () => {
    fake.onMessage = (c, msg) =>
      c.ws.send(
        JSON.stringify({
          type: 'error',
          done: true,
          status_code: 400,
          error_code: 'bad',
          title: 'Bad',
          message: `key ${UPSTREAM_KEY}`,
          context_id: msg.context_id,
        }),
      )
    const s = await openSession(await token())
    s.send({ ...ttsBody(VOICE, 'Hi.'), context_id: 'e' })
    const end = await s.end('e')
    assert.equal(end.error_code, 'bad')
    assert.ok(!JSON.stringify(end).includes(UPSTREAM_KEY))
    s.close()
  })

  test('a revoke on the gateway ends the relayed socket within 1 s: token_revoked per context, then 4401; the upstream gets a cancel per context, then the close', async () => {
    fake.onMessage = () => undefined
    const tok = await token()
    const s = await openSession(tok)
    const conn = lastConnection()
    for (const id of ['a', 'b']) s.send({ ...ttsBody(VOICE, ''), context_id: id, continue: true })
    await fake.until(() => conn.messages.length === 2)
    const t0 = performance.now()
    const res = await call(gw.url, '/access-token/revoke', { headers: bearer(gw.apiKey), body: { token: tok } })
    assert.equal(res.status, 200)
    const code = await s.closed()
    const elapsed = performance.now() - t0
    assert.equal(code, 4401)
    assert.ok(elapsed < 1000, `closed ${Math.round(elapsed)} ms after the revoke call`)
    for (const id of ['a', 'b']) assert.equal((await s.end(id)).error_code, 'token_revoked')
    await conn.closed
    assert.deepEqual(conn.messages.slice(2), [
      { context_id: 'a', cancel: true },
      { context_id: 'b', cancel: true },
    ])
  })

  test('limits.characters holds across contexts and continue pieces: the crossing message gets quota_exceeded and never leaves', async () => {
    const first = 'Hello there, my friend. '
    const piece = 'Fine. '
    const s = await openSession(
      await token({ limits: { characters: countCharacters(first) + countCharacters(piece) } }),
    )
    const conn = lastConnection()
    s.send({ ...ttsBody(VOICE, first), context_id: 'a', continue: true })
    s.send({ ...ttsBody(VOICE, ''), context_id: 'a' })
    assert.equal((await s.end('a')).type, 'done')
    s.send({ ...ttsBody(VOICE, 'This one crosses.'), context_id: 'b' })
    assert.equal((await s.end('b')).error_code, 'quota_exceeded')
    s.send({ ...ttsBody(VOICE, piece), context_id: 'c', continue: true })
    s.send({ ...ttsBody(VOICE, 'More.'), context_id: 'c', continue: true })
    assert.equal((await s.end('c')).error_code, 'quota_exceeded')
    await fake.until(() => conn.messages.some((m) => m.cancel === true))
    const upstreamSaw = conn.messages.map((m) =>
      m.cancel ? `cancel ${m.context_id}` : `${m.context_id}: ${m.transcript}`,
    )
    assert.deepEqual(upstreamSaw, [`a: ${first}`, 'a: ', `c: ${piece}`, 'cancel c'])
    s.close()
  })

  test('tag-shaped text voxgate does not know is counted on a relayed socket: a context of it past limits.characters never leaves', async () => {
    const s = await openSession(await token({ limits: { characters: 100 } }))
    const conn = lastConnection()
    try {
      s.send({ ...ttsBody(VOICE, `<x y="${'p'.repeat(8000)}"/>`), context_id: 'tag' })
      assert.equal((await s.end('tag')).error_code, 'quota_exceeded')
      s.send({ ...ttsBody(VOICE, '<emotion value="calm"/>Fine <break time="1s"/>now.'), context_id: 'ok' })
      assert.equal((await s.end('ok')).type, 'done')
      assert.deepEqual(
        conn.messages.map((m) => m.context_id),
        ['ok'],
      )
    } finally {
      s.close()
    }
  })

  test("limits.concurrent_streams counts relayed contexts: one past it gets concurrency_limited and never leaves; its slot frees with the upstream's done", async () => {
    fake.onMessage = () => undefined
    const s = await openSession(await token({ limits: { concurrent_streams: 1 } }))
    const conn = lastConnection()
    s.send({ ...ttsBody(VOICE, 'One. '), context_id: 'one', continue: true })
    s.send({ ...ttsBody(VOICE, 'Two.'), context_id: 'two' })
    assert.equal((await s.end('two')).error_code, 'concurrency_limited')
    assert.deepEqual(
      conn.messages.map((m) => m.context_id),
      ['one'],
    )
    conn.ws.send(JSON.stringify({ type: 'done', done: true, status_code: 206, context_id: 'one' }))
    await s.end('one')
    fake.onMessage = undefined
    s.send({ ...ttsBody(VOICE, 'Three.'), context_id: 'three' })
    assert.equal((await s.end('three')).type, 'done')
    s.close()
  })

  test('refused messages get a local error event and never reach the upstream', async () => {
    const s = await openSession(await token({ limits: { voices: [VOICE] } }))
    const conn = lastConnection()
    s.send({ ...ttsBody('another-voice', 'Hi.'), context_id: 'v' })
    s.send({ context_id: 's', transcript: 'no model or voice' })
    s.send({ ...ttsBody(VOICE, 'x'.repeat(gw.server.ctx.config.wsMaxPayloadBytes)), context_id: 'big' })
    s.send('not json')
    s.send({ ...ttsBody(VOICE, 'Fine.'), context_id: 'ok' })
    assert.equal((await s.end('v')).error_code, 'voice_not_allowed')
    assert.equal((await s.end('s')).error_code, 'invalid_request')
    assert.equal((await s.end('ok')).type, 'done')
    const codes = s.events.filter((e) => e.type === 'error' && e.context_id === undefined).map((e) => e.error_code)
    assert.deepEqual(codes, ['message_too_large', 'invalid_request'])
    assert.deepEqual(
      conn.messages.map((m) => m.context_id),
      ['ok'],
    )
    s.close()
  })
})

describe('socket life', () => {
  test("a cancel is forwarded and the upstream's done for it relayed; refresh_token is answered by the gateway and never forwarded", async () => {
    const tok = await token({ sub: 'user-r' })
    const s = await openSession(tok)
    const conn = lastConnection()
    s.send({ ...ttsBody(VOICE, 'Start. '), context_id: 'x', continue: true })
    s.send({ context_id: 'x', cancel: true })
    assert.equal((await s.end('x')).type, 'done')
    s.send({ type: 'refresh_token', access_token: await token({ sub: 'user-r' }) })
    assert.equal((await s.next((e) => e.type === 'token_refreshed')).type, 'token_refreshed')
    s.send({ type: 'refresh_token', access_token: await token({ sub: 'someone-else' }) })
    assert.equal((await s.next((e) => e.type === 'error')).error_code, 'identity_mismatch')
    assert.deepEqual(
      conn.messages.map((m) => (m.cancel ? 'cancel' : m.transcript)),
      ['Start. ', 'cancel'],
    )
    s.close()
  })

  test('contexts per socket are bounded as locally: one past wsMaxContexts gets too_many_contexts and never leaves', async () => {
    fake.onMessage = () => undefined
    const s = await openSession(await token())
    const conn = lastConnection()
    const max = gw.server.ctx.config.wsMaxContexts
    for (let i = 0; i <= max; i++) s.send({ ...ttsBody(VOICE, ''), context_id: `c${i}`, continue: true })
    assert.equal((await s.end(`c${max}`)).error_code, 'too_many_contexts')
    await fake.until(() => conn.messages.length === max)
    assert.ok(!conn.messages.some((m) => m.context_id === `c${max}`))
    s.close()
  })

  test('the per-key rate limit counts each new relayed context as locally: one past it gets rate_limited and never leaves', async () => {
    const limited = await startTestServer({
      upstreamUrl: fake.url,
      upstreamApiKey: UPSTREAM_KEY,
      ttsStreamsPerMinute: 2,
    })
    try {
      const s = await WsSession.open(
        wsUrl(limited.url),
        bearer(await mint(limited.url, limited.apiKey, { grants: { tts: true }, expires_in: 600 })),
      )
      const conn = lastConnection()
      for (const id of ['r1', 'r2', 'r3']) s.send({ ...ttsBody(VOICE, 'Hi.'), context_id: id })
      assert.equal((await s.end('r3')).error_code, 'rate_limited')
      for (const id of ['r1', 'r2']) assert.equal((await s.end(id)).type, 'done')
      assert.deepEqual(
        conn.messages.map((m) => m.context_id),
        ['r1', 'r2'],
      )
      s.close()
    } finally {
      await fake.until(() => fake.open === 0)
      await limited.close()
    }
  })

  test("an idle relayed socket closes 1000 as locally (connection_closing to each open context), and so does the upstream's", async () => {
    const idle = await startTestServer({ upstreamUrl: fake.url, upstreamApiKey: UPSTREAM_KEY, wsIdleTimeoutMs: 300 })
    try {
      fake.onMessage = () => undefined
      const s = await WsSession.open(
        wsUrl(idle.url),
        bearer(await mint(idle.url, idle.apiKey, { grants: { tts: true }, expires_in: 600 })),
      )
      const conn = lastConnection()
      s.send({ ...ttsBody(VOICE, ''), context_id: 'quiet', continue: true })
      assert.equal(await s.closed(), 1000)
      assert.equal((await s.end('quiet')).error_code, 'connection_closing')
      await conn.closed
    } finally {
      await idle.close()
    }
  })

  test('server shutdown: each open relayed context gets connection_closing, then 1001; the upstream socket is closed', async () => {
    const own = await startTestServer({ upstreamUrl: fake.url, upstreamApiKey: UPSTREAM_KEY })
    fake.onMessage = () => undefined
    const s = await WsSession.open(
      wsUrl(own.url),
      bearer(await mint(own.url, own.apiKey, { grants: { tts: true }, expires_in: 600 })),
    )
    const conn = lastConnection()
    s.send({ ...ttsBody(VOICE, ''), context_id: 'open', continue: true })
    await fake.until(() => conn.messages.length === 1)
    await own.close()
    assert.equal(await s.closed(), 1001)
    assert.equal((await s.end('open')).error_code, 'connection_closing')
    await conn.closed
  })
})

describe('backpressure', () => {
  test("a client that stops reading: the gateway stops reading the upstream (its queue grows, not the gateway's); everything arrives once the client reads again", async () => {
    fake.onMessage = () => undefined
    const h = await handshake(wsUrl(gw.url), bearer(await token()))
    const client = h.ws!
    const conn = lastConnection()
    client.send(JSON.stringify({ ...ttsBody(VOICE, 'Long. '), context_id: 'a', continue: true }))
    await fake.until(() => conn.messages.length === 1)
    let received = 0
    client.on('message', (d) => {
      if (JSON.parse(d.toString()).type === 'chunk') received += 1
    })
    client.pause()
    // Only a gateway that stopped reading lets the fake's own queue grow: 32 MB, far past what the
    // gateway may hold (256 KB queued per client, 8 MB before it cuts a client off).
    const event = JSON.stringify({
      type: 'chunk',
      data: Buffer.alloc(192 * 1024).toString('base64'),
      done: false,
      status_code: 206,
      step_time: 1,
      context_id: 'a',
    })
    let sent = 0
    while (conn.ws.readyState === conn.ws.OPEN && conn.ws.bufferedAmount < 32 * 1024 * 1024 && sent < 1000) {
      conn.ws.send(event)
      sent += 1
      await new Promise((resolve) => setImmediate(resolve))
    }
    assert.equal(conn.ws.readyState, conn.ws.OPEN, 'the gateway cut the upstream socket')
    assert.ok(
      conn.ws.bufferedAmount >= 32 * 1024 * 1024,
      `the fake's queue stayed at ${conn.ws.bufferedAmount} bytes after ${sent} events`,
    )
    assert.equal(client.readyState, client.OPEN, 'the gateway cut the client: it held too much for it')
    client.resume()
    const done = new Promise<void>((resolve) =>
      client.on('message', (d) => {
        if (JSON.parse(d.toString()).type === 'done') resolve()
      }),
    )
    conn.ws.send(JSON.stringify({ type: 'done', done: true, status_code: 206, context_id: 'a' }))
    await done
    assert.equal(received, sent)
    client.close()
  })
})
