/**
 * Every limit is crossed by exactly one (STYLE.md habit 5): the value at the limit passes, one past it
 * fails with the exact status and error code.
 * Over 400 lines because it is one list of limits, each at its edge and one past it, kept together
 * so a limit in docs/limits.md without its row here stands out.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { decodeJwt } from 'jose'
import { createKey } from '../../src/keys/create-key.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { bearer, call, mint, type ApiResponse } from '../helpers/http.ts'
import { handshake, wsUrl } from '../helpers/ws.ts'
import { closeQuietly, openInbox, ttsBody, voiceIds, type Inbox } from '../helpers/security.ts'

let t: TestServer
let v0: string
let v1: string
before(async () => {
  t = await startTestServer()
  ;[v0, v1] = (await voiceIds(t.url, t.apiKey, 2)) as [string, string]
})
after(() => t.close())

function assertError(res: ApiResponse, status: number, code: string): void {
  assert.equal(res.status, status, res.text.slice(0, 300))
  assert.equal(res.json?.error_code, code, res.text.slice(0, 300))
}
const bytes = (url: string, credential: string, body: unknown, headers: Record<string, string> = {}) =>
  call(url, '/tts/bytes', { headers: { ...bearer(credential), ...headers }, body })
const tokenWith = (limits: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  mint(t.url, t.apiKey, { grants: { tts: true }, expires_in: 600, limits, ...extra })
const socket = (url: string, token: string): Promise<Inbox> => openInbox(url, { query: `?access_token=${token}` })
/** A JSON text of exactly `size` bytes: `value` plus a padding field the schema ignores. */
function exactly(size: number, value: Record<string, unknown>): string {
  const base = JSON.stringify({ ...value, pad: '' })
  assert.ok(size >= base.length, `${size} is too small for the body`)
  return JSON.stringify({ ...value, pad: 'x'.repeat(size - base.length) })
}

describe('limits.characters', () => {
  const TWENTY = 'abcd '.repeat(4)

  test('POST /tts/bytes: the exact budget passes, one more character is 429 quota_exceeded', async () => {
    assert.equal(TWENTY.length, 20)
    const token = await tokenWith({ characters: 20 })
    assert.equal((await bytes(t.url, token, ttsBody(v0, TWENTY))).status, 200)
    const over = await bytes(t.url, token, ttsBody(v0, 'a'))
    assertError(over, 429, 'quota_exceeded')
    assert.equal(over.headers.get('x-should-retry'), 'false')
    assert.equal(
      (await call(t.url, '/access-token/self', { headers: bearer(token) })).json.usage.characters,
      20,
      'the refused request cost nothing',
    )
  })

  test('WebSocket: the exact budget is spoken, one more character is an error event quota_exceeded', async () => {
    const inbox = await socket(t.url, await tokenWith({ characters: 20 }))
    try {
      inbox.send({ ...ttsBody(v0, TWENTY), context_id: 'in-budget' })
      assert.equal((await inbox.terminal('in-budget')).type, 'done')
      inbox.send({ ...ttsBody(v0, 'a'), context_id: 'over' })
      const end = await inbox.terminal('over')
      assert.equal(end.type, 'error')
      assert.equal(end.error_code, 'quota_exceeded')
      assert.equal(end.status_code, 429)
    } finally {
      closeQuietly(inbox.ws)
    }
  })
})

describe('limits.concurrent_streams', () => {
  test('N open streams pass; stream N+1 is 429 concurrency_limited (Retry-After) on HTTP and an error event on the WebSocket', async () => {
    const token = await tokenWith({ concurrent_streams: 2 })
    const inbox = await socket(t.url, token)
    try {
      for (const id of ['s1', 's2']) inbox.send({ ...ttsBody(v0, ''), context_id: id, continue: true })
      inbox.send({ ...ttsBody(v0, ''), context_id: 's3', continue: true })
      const third = await inbox.terminal('s3')
      assert.equal(third.type, 'error')
      assert.equal(third.error_code, 'concurrency_limited')
      const self = await call(t.url, '/access-token/self', { headers: bearer(token) })
      assert.equal(self.json.usage.open_streams, 2)
      assert.equal(
        inbox.messages.filter((m) => m.context_id === 's1' || m.context_id === 's2').length,
        0,
        's1 and s2 stay open',
      )

      const http = await bytes(t.url, token, ttsBody(v0, 'Hi.'))
      assertError(http, 429, 'concurrency_limited')
      assert.match(http.headers.get('retry-after') ?? '', /^[1-9]\d*$/)

      inbox.send({ context_id: 's1', cancel: true })
      assert.equal((await inbox.terminal('s1')).type, 'done')
      assert.equal((await bytes(t.url, token, ttsBody(v0, 'Hi.'))).status, 200, 'a freed slot can be used')
    } finally {
      closeQuietly(inbox.ws)
    }
  })
})

describe('limits.voices', () => {
  test('an allowed voice passes; another voice is 403 voice_not_allowed on HTTP and the WebSocket', async () => {
    const token = await tokenWith({ voices: [v0] })
    assert.equal((await bytes(t.url, token, ttsBody(v0, 'Hi.'))).status, 200)
    assertError(await bytes(t.url, token, ttsBody(v1, 'Hi.')), 403, 'voice_not_allowed')
    assertError(
      await call(t.url, '/tts/sse', { headers: bearer(token), body: ttsBody(v1, 'Hi.') }),
      403,
      'voice_not_allowed',
    )
    const inbox = await socket(t.url, token)
    try {
      inbox.send({ ...ttsBody(v1, 'Hi.'), context_id: 'other-voice' })
      const end = await inbox.terminal('other-voice')
      assert.equal(end.error_code, 'voice_not_allowed')
      inbox.send({ ...ttsBody(v0, 'Hi.'), context_id: 'allowed' })
      assert.equal((await inbox.terminal('allowed')).type, 'done')
    } finally {
      closeQuietly(inbox.ws)
    }
  })
})

describe('limits.origins', () => {
  test('the listed Origin passes; a foreign or missing Origin is 403 origin_not_allowed', async () => {
    const token = await tokenWith({ origins: ['https://app.example'] })
    assert.equal((await bytes(t.url, token, ttsBody(v0, 'Hi.'), { origin: 'https://app.example' })).status, 200)
    assertError(
      await bytes(t.url, token, ttsBody(v0, 'Hi.'), { origin: 'https://evil.example' }),
      403,
      'origin_not_allowed',
    )
    assertError(await bytes(t.url, token, ttsBody(v0, 'Hi.')), 403, 'origin_not_allowed')
    const foreign = await handshake(wsUrl(t.url, `?access_token=${token}`), { origin: 'https://evil.example' })
    assert.equal(foreign.status, 403)
    assert.equal(JSON.parse(foreign.body).error_code, 'origin_not_allowed')
    const none = await handshake(wsUrl(t.url, `?access_token=${token}`))
    assert.equal(none.status, 403)
    const good = await handshake(wsUrl(t.url, `?access_token=${token}`), { origin: 'https://app.example' })
    assert.equal(good.status, 101)
    good.ws?.close()
  })
})

describe('rate limits', () => {
  let r: TestServer
  before(async () => {
    r = await startTestServer({ mintPerMinute: 3, ttsStreamsPerMinute: 2 })
  })
  after(() => r.close())

  test('mintPerMinute 3: three mints pass, the fourth is 429 rate_limited with Retry-After; another key is not affected', async () => {
    const minter = await createKey(r.server.ctx.store, 'minter', Date.now())
    for (let i = 0; i < 3; i++)
      assert.equal((await call(r.url, '/access-token', { headers: bearer(minter.key), body: {} })).status, 200)
    const fourth = await call(r.url, '/access-token', { headers: bearer(minter.key), body: {} })
    assertError(fourth, 429, 'rate_limited')
    const retry = Number(fourth.headers.get('retry-after'))
    assert.ok(Number.isInteger(retry) && retry >= 1 && retry <= 60, `Retry-After ${retry}`)
    assert.equal(
      (await call(r.url, '/access-token', { headers: bearer(r.apiKey), body: {} })).status,
      200,
      'the limit is per key',
    )
  })

  test('ttsStreamsPerMinute 2: two streams pass, the third is 429 rate_limited on HTTP and an error event on the WebSocket', async () => {
    const speaker = await createKey(r.server.ctx.store, 'speaker', Date.now())
    const voice = (await voiceIds(r.url, r.apiKey, 1))[0]!
    assert.equal((await bytes(r.url, speaker.key, ttsBody(voice, 'One.'))).status, 200)
    assert.equal(
      (await call(r.url, '/tts/sse', { headers: bearer(speaker.key), body: ttsBody(voice, 'Two.') })).status,
      200,
    )
    const third = await bytes(r.url, speaker.key, ttsBody(voice, 'Three.'))
    assertError(third, 429, 'rate_limited')
    assert.match(third.headers.get('retry-after') ?? '', /^[1-9]\d*$/)
    const inbox = await openInbox(r.url, { headers: { 'x-api-key': speaker.key } })
    try {
      inbox.send({ ...ttsBody(voice, 'Four.'), context_id: 'four' })
      const end = await inbox.terminal('four')
      assert.equal(end.type, 'error')
      assert.equal(end.error_code, 'rate_limited')
    } finally {
      closeQuietly(inbox.ws)
    }
  })
})

describe('size limits', () => {
  const LIMIT = 2048
  let s: TestServer
  let voice: string
  before(async () => {
    s = await startTestServer({ bodyLimitBytes: LIMIT, wsMaxPayloadBytes: LIMIT, wsMaxContexts: 2 })
    voice = (await voiceIds(s.url, s.apiKey, 1))[0]!
  })
  after(() => s.close())

  test('bodyLimitBytes: a body of exactly the limit passes, one byte more is 413 payload_too_large', async () => {
    const atLimit = exactly(LIMIT, ttsBody(voice, 'Hi.'))
    assert.equal(Buffer.byteLength(atLimit), LIMIT)
    assert.equal((await bytes(s.url, s.apiKey, atLimit)).status, 200)
    const over = exactly(LIMIT + 1, ttsBody(voice, 'Hi.'))
    assertError(await bytes(s.url, s.apiKey, over), 413, 'payload_too_large')
    assertError(await call(s.url, '/tts/sse', { headers: bearer(s.apiKey), body: over }), 413, 'payload_too_large')
    assertError(
      await call(s.url, '/access-token', {
        headers: bearer(s.apiKey),
        body: exactly(LIMIT + 1, { grants: { tts: true } }),
      }),
      413,
      'payload_too_large',
    )
  })

  test('wsMaxPayloadBytes: a message of exactly the limit is spoken, one byte more is message_too_large and the socket stays usable', async () => {
    const inbox = await openInbox(s.url, { headers: { 'x-api-key': s.apiKey } })
    try {
      inbox.send(exactly(LIMIT, { ...ttsBody(voice, 'At the limit.'), context_id: 'at' }))
      assert.equal((await inbox.terminal('at')).type, 'done')
      inbox.send(exactly(LIMIT + 1, { ...ttsBody(voice, 'Over.'), context_id: 'over' }))
      const err = await inbox.message((m) => m.type === 'error')
      assert.equal(err.error_code, 'message_too_large')
      inbox.send({ ...ttsBody(voice, 'Still usable.'), context_id: 'after' })
      assert.equal((await inbox.terminal('after')).type, 'done')
      assert.equal(inbox.closeInfo, undefined)
    } finally {
      closeQuietly(inbox.ws)
    }
  })

  test('a message past twice the limit closes the socket with 1009', async () => {
    const inbox = await openInbox(s.url, { headers: { 'x-api-key': s.apiKey } })
    try {
      inbox.send(exactly(2 * LIMIT + 1, { ...ttsBody(voice, 'Way over.'), context_id: 'huge' }))
      assert.equal((await inbox.closed()).code, 1009)
    } finally {
      closeQuietly(inbox.ws)
    }
  })

  /** Opens a context that speaks one sentence and stays open (continue), and waits for its audio. */
  async function openContext(inbox: Inbox, id: string): Promise<void> {
    inbox.send({ ...ttsBody(voice, 'Open.'), context_id: id, continue: true })
    await inbox.message((m) => m.context_id === id, 5000, `audio of ${id}`)
  }

  test('wsMaxContexts: N open contexts pass, context N+1 is too_many_contexts; a finished one frees its place', async () => {
    const inbox = await openInbox(s.url, { headers: { 'x-api-key': s.apiKey } })
    try {
      await openContext(inbox, 'c1')
      await openContext(inbox, 'c2')
      inbox.send({ ...ttsBody(voice, 'Three.'), context_id: 'c3' })
      const third = await inbox.message((m) => m.context_id === 'c3')
      assert.equal(third.type, 'error')
      assert.equal(third.error_code, 'too_many_contexts')
      assert.ok(
        !inbox.messages.some((m) => (m.context_id === 'c1' || m.context_id === 'c2') && m.done),
        'c1 and c2 stay open',
      )
      inbox.send({ context_id: 'c1', cancel: true })
      assert.equal((await inbox.terminal('c1')).type, 'done')
      inbox.send({ ...ttsBody(voice, 'Three.'), context_id: 'c3b' })
      assert.equal((await inbox.terminal('c3b')).type, 'done')
    } finally {
      closeQuietly(inbox.ws)
    }
  })

  test('wsMaxContexts holds when the context requests arrive pipelined (no await between them)', async () => {
    const inbox = await openInbox(s.url, { headers: { 'x-api-key': s.apiKey } })
    try {
      const ids = Array.from({ length: 10 }, (_, i) => `p${i}`)
      inbox.sendPipelined(ids.map((id) => ({ ...ttsBody(voice, ''), context_id: id, continue: true })))
      const refused = await inbox
        .waitFor(
          () => {
            const r = inbox.messages.filter((m) => m.error_code === 'too_many_contexts')
            return r.length >= ids.length - 2 ? r : undefined
          },
          2000,
          `${ids.length - 2} too_many_contexts refusals`,
        )
        .catch(() => inbox.messages.filter((m) => m.error_code === 'too_many_contexts'))
      assert.equal(
        refused.length,
        ids.length - 2,
        `${ids.length} pipelined contexts on a socket allowed 2: ${refused.length} refused`,
      )
    } finally {
      closeQuietly(inbox.ws)
    }
  })
})

describe('pipelined input to one new context', () => {
  test('two messages sent back to back for a new context_id make ONE context: one done, no stray audio, the slot released', async () => {
    const token = await tokenWith({ concurrent_streams: 5 })
    const inbox = await socket(t.url, token)
    try {
      inbox.sendPipelined([
        { ...ttsBody(v0, 'Hello '), context_id: 'one', continue: true },
        { ...ttsBody(v0, 'world.'), context_id: 'one' },
      ])
      assert.equal((await inbox.terminal('one')).type, 'done')
      // The deterministic engine speaks one chunk per word: both words, in the one context.
      await new Promise((r) => setTimeout(r, 300))
      const events = inbox.messages.filter((m) => m.context_id === 'one').map((m) => m.type)
      const self = await call(t.url, '/access-token/self', { headers: bearer(token) })
      assert.deepEqual(
        { events, openStreams: self.json.usage.open_streams },
        { events: ['chunk', 'chunk', 'done'], openStreams: 0 },
      )
    } finally {
      closeQuietly(inbox.ws)
    }
  })
})

describe('transcript length', () => {
  const at = 'word '.repeat(2000)
  const over = `${at}x`

  test('10000 characters pass, 10001 are 400 transcript_too_long on bytes and SSE', async () => {
    assert.equal(at.length, 10_000)
    assert.equal((await bytes(t.url, t.apiKey, ttsBody(v0, at))).status, 200)
    assertError(await bytes(t.url, t.apiKey, ttsBody(v0, over)), 400, 'transcript_too_long')
    assert.equal((await call(t.url, '/tts/sse', { headers: bearer(t.apiKey), body: ttsBody(v0, at) })).status, 200)
    assertError(
      await call(t.url, '/tts/sse', { headers: bearer(t.apiKey), body: ttsBody(v0, over) }),
      400,
      'transcript_too_long',
    )
  })

  test('10001 characters in one WebSocket message are an error event transcript_too_long', async () => {
    const inbox = await openInbox(t.url, { headers: { 'x-api-key': t.apiKey } })
    try {
      inbox.send({ ...ttsBody(v0, over), context_id: 'long' })
      const end = await inbox.terminal('long')
      assert.equal(end.type, 'error')
      assert.equal(end.error_code, 'transcript_too_long')
    } finally {
      closeQuietly(inbox.ws)
    }
  })
})

describe('minting bounds', () => {
  const origins = (n: number) => Array.from({ length: n }, (_, i) => `https://app${i}.example`)
  const voicesN = (n: number) => Array.from({ length: n }, (_, i) => `voice-${i}`)
  const CASES: { name: string; at: Record<string, unknown>; over: Record<string, unknown> }[] = [
    { name: 'expires_in 3600 vs 3601', at: { expires_in: 3600 }, over: { expires_in: 3601 } },
    { name: 'sub 256 vs 257 characters', at: { sub: 's'.repeat(256) }, over: { sub: 's'.repeat(257) } },
    {
      name: 'limits.voices 100 vs 101 ids',
      at: { limits: { voices: voicesN(100) } },
      over: { limits: { voices: voicesN(101) } },
    },
    {
      name: 'limits.concurrent_streams 100 vs 101',
      at: { limits: { concurrent_streams: 100 } },
      over: { limits: { concurrent_streams: 101 } },
    },
    {
      name: 'limits.origins 20 vs 21',
      at: { limits: { origins: origins(20) } },
      over: { limits: { origins: origins(21) } },
    },
  ]
  for (const c of CASES) {
    test(`${c.name}: at the limit 200, one past 400 invalid_request`, async () => {
      const ok = await call(t.url, '/access-token', {
        headers: bearer(t.apiKey),
        body: { grants: { tts: true }, ...c.at },
      })
      assert.equal(ok.status, 200, ok.text)
      const claims = decodeJwt(ok.json.token)
      if ('sub' in c.at) assert.equal(claims.sub, c.at.sub)
      if ('limits' in c.at) assert.deepEqual(claims.limits, c.at.limits)
      assertError(
        await call(t.url, '/access-token', { headers: bearer(t.apiKey), body: { grants: { tts: true }, ...c.over } }),
        400,
        'invalid_request',
      )
    })
  }
})

describe('GET /access-token/self', () => {
  test('reports grants, limits, sub, lifetime and usage', async () => {
    const limits = { characters: 100, concurrent_streams: 3, voices: [v0] }
    const token = await tokenWith(limits, { sub: 'user-self' })
    assert.equal((await bytes(t.url, token, ttsBody(v0, 'Twelve chars'))).status, 200)
    const res = await call(t.url, '/access-token/self', { headers: bearer(token) })
    assert.equal(res.status, 200, res.text)
    const claims = decodeJwt(token)
    assert.deepEqual(res.json, {
      grants: { tts: true },
      issued_at: claims.iat,
      expires_at: claims.exp,
      sub: 'user-self',
      limits,
      usage: { characters: 12, audio_seconds: 0, open_streams: 0 },
    })
    assert.ok(!res.text.includes(token))
  })

  test('an API key is told the route describes tokens (400 invalid_request)', async () => {
    assertError(await call(t.url, '/access-token/self', { headers: bearer(t.apiKey) }), 400, 'invalid_request')
  })
})
