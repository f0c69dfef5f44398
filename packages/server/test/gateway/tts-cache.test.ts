/**
 * The TTS cache relayed (issue 25, item 3): a hit is the miss's bytes, sent without calling the
 * upstream (OpenAI's /v1/audio/speech too, kept as the client got it); any field that shapes the audio (and the API version, and the minting key unless the
 * scope is global) is part of the key; a failure or a cut answer is never kept; LRU within the cap,
 * entries up to 5 MiB; hits counted as cached in the ledger and charged unless --tts-cache-free;
 * shared by two instances through Redis with --tts-cache-redis.
 */
import { after, afterEach, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { bearer, call, mint } from '../helpers/http.ts'
import { answerError, FakeHttpUpstream } from '../helpers/fake-http-upstream.ts'
import { rawRequest } from '../helpers/raw-request.ts'
import { dropPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis.ts'
import { startTestServer, type TestServer } from '../helpers/server.ts'
import { createKey } from '../../src/keys/create-key.ts'
import { TTS_CACHE_MAX_ENTRY_BYTES } from '../../src/tts/cache.ts'

const UPSTREAM_KEY = 'sk_car_upstream-secret-0123456789abcdef'
const VERSION = '2025-04-16'
const FORMAT = { container: 'raw', encoding: 'pcm_s16le', sample_rate: 16000 }
const body = (extra: Record<string, unknown> = {}) => ({
  model_id: 'sonic-3',
  transcript: 'Welcome back.',
  voice: { mode: 'id', id: 'upstream-voice' },
  output_format: FORMAT,
  ...extra,
})

/** Answer sizes by transcript; any other transcript gets 3200 bytes. Bytes depend on the whole body. */
const sizes = new Map<string, number>()
const speakingUpstream: FakeHttpUpstream['handler'] = (req, res, raw) => {
  if (!req.url?.startsWith('/tts/')) {
    // The start check's voices request.
    res.writeHead(200, { 'content-type': 'application/json' })
    return void res.end(JSON.stringify({ data: [], has_more: false }))
  }
  const parsed = JSON.parse(raw.toString())
  const size = sizes.get(parsed.transcript) ?? 3200
  const audio = Buffer.alloc(size, createHash('sha1').update(raw).digest()[0]!)
  res.writeHead(200, { 'content-type': 'application/octet-stream' })
  res.end(audio)
}

const ttsCalls = (fake: FakeHttpUpstream) => fake.requests.filter((r) => r.url.startsWith('/tts/')).length

async function speak(gw: TestServer, token: string, payload: unknown = body(), version = VERSION) {
  return rawRequest(gw.url, '/tts/bytes', {
    headers: { 'content-type': 'application/json', 'cartesia-version': version, ...bearer(token) },
    body: JSON.stringify(payload),
  })
}

let fake: FakeHttpUpstream
before(async () => {
  fake = await FakeHttpUpstream.start()
})
afterEach(async () => {
  await fake.until(() => fake.open === 0)
  fake.reset()
  fake.handler = speakingUpstream
})
after(async () => {
  await fake.close()
})

const gateway = (extra: Record<string, unknown> = {}) =>
  startTestServer({ upstreamUrl: fake.url, upstreamApiKey: UPSTREAM_KEY, ttsCacheMb: 1, ...extra })

describe('one instance, scope key', () => {
  let gw: TestServer
  let token: string
  before(async () => {
    gw = await gateway()
    token = await mint(gw.url, gw.apiKey, { grants: { tts: true }, expires_in: 600, sub: 'cache-user' })
    fake.handler = speakingUpstream
  })
  after(async () => {
    await gw.close()
  })

  test('a hit is the miss byte for byte, sent without calling the upstream', async () => {
    const miss = await speak(gw, token, body({ transcript: 'First greeting.' }))
    assert.equal(miss.status, 200)
    assert.equal(miss.headers['x-voxgate-cache'], undefined)
    assert.equal(ttsCalls(fake), 1)
    const hit = await speak(gw, token, body({ transcript: 'First greeting.' }))
    assert.equal(hit.status, 200)
    assert.equal(hit.headers['x-voxgate-cache'], 'hit')
    assert.deepEqual(hit.body, miss.body)
    assert.equal(hit.headers['content-type'], miss.headers['content-type'])
    assert.equal(ttsCalls(fake), 1, 'the hit never reached the upstream')
    // context_id does not shape the audio: still a hit.
    assert.equal(
      (await speak(gw, token, body({ transcript: 'First greeting.', context_id: 'c9' }))).headers['x-voxgate-cache'],
      'hit',
    )
    assert.equal(ttsCalls(fake), 1)
  })

  test("OpenAI's /v1/audio/speech: a hit is the miss as the client got it, without the upstream; another format misses", async () => {
    const openAi = (response_format: string) =>
      rawRequest(gw.url, '/v1/audio/speech', {
        headers: { 'content-type': 'application/json', ...bearer(token) },
        body: JSON.stringify({
          model: 'tts-1',
          input: 'An OpenAI greeting.',
          voice: 'upstream-voice',
          response_format,
        }),
      })
    const before = ttsCalls(fake)
    const miss = await openAi('pcm')
    assert.deepEqual([miss.status, miss.headers['x-voxgate-cache']], [200, undefined])
    assert.equal(ttsCalls(fake), before + 1)
    const hit = await openAi('pcm')
    assert.deepEqual([hit.status, hit.headers['x-voxgate-cache']], [200, 'hit'])
    assert.deepEqual(hit.body, miss.body)
    assert.equal(hit.headers['content-type'], miss.headers['content-type'])
    assert.equal(ttsCalls(fake), before + 1, 'the hit never reached the upstream')
    const wav = await openAi('wav')
    assert.deepEqual([wav.status, wav.headers['x-voxgate-cache']], [200, undefined])
    assert.equal(ttsCalls(fake), before + 2)
  })

  test('each field that shapes the audio, and the API version, misses', async () => {
    const base = body({ transcript: 'Fields.' })
    await speak(gw, token, base)
    const changed: [string, unknown][] = [
      ['transcript', body({ transcript: 'Fields!' })],
      ['voice', { ...base, voice: { mode: 'id', id: 'another-voice' } }],
      ['model', { ...base, model_id: 'sonic-2' }],
      ['language', { ...base, language: 'fr' }],
      ['output format', { ...base, output_format: { ...FORMAT, sample_rate: 24000 } }],
      ['generation config', { ...base, generation_config: { speed: 1.2 } }],
    ]
    for (const [what, payload] of changed) {
      const before = ttsCalls(fake)
      const res = await speak(gw, token, payload)
      assert.equal(res.headers['x-voxgate-cache'], undefined, what)
      assert.equal(ttsCalls(fake), before + 1, `${what}: the upstream was called`)
    }
    const before = ttsCalls(fake)
    assert.equal((await speak(gw, token, base, '2024-11-13')).headers['x-voxgate-cache'], undefined)
    assert.equal(ttsCalls(fake), before + 1)
    // Keys in another order are the same request.
    const reordered = Object.fromEntries(Object.entries(base).reverse())
    assert.equal((await speak(gw, token, reordered)).headers['x-voxgate-cache'], 'hit')
  })

  test("another API key's token misses: scope key", async () => {
    await speak(gw, token, body({ transcript: 'Scoped.' }))
    const other = await createKey(gw.server.ctx.store, 'other', Date.now())
    const otherToken = await mint(gw.url, other.key, { grants: { tts: true }, expires_in: 60 })
    const before = ttsCalls(fake)
    assert.equal((await speak(gw, otherToken, body({ transcript: 'Scoped.' }))).headers['x-voxgate-cache'], undefined)
    assert.equal(ttsCalls(fake), before + 1)
  })

  test('a failure is never kept', async () => {
    fake.handler = answerError(500, 'internal', 'boom')
    assert.equal((await speak(gw, token, body({ transcript: 'Failing.' }))).status, 502)
    fake.handler = speakingUpstream
    const res = await speak(gw, token, body({ transcript: 'Failing.' }))
    assert.equal(res.status, 200)
    assert.equal(res.headers['x-voxgate-cache'], undefined)
    assert.equal(ttsCalls(fake), 2)
  })

  test('least recently used out first, within the cap (1 MiB: two 400 KiB entries, not three)', async () => {
    for (const t of ['lru-a', 'lru-b', 'lru-c']) sizes.set(t, 400 * 1024)
    await speak(gw, token, body({ transcript: 'lru-a' }))
    await speak(gw, token, body({ transcript: 'lru-b' }))
    // a used again: b is now the least recently used, and goes when c comes.
    assert.equal((await speak(gw, token, body({ transcript: 'lru-a' }))).headers['x-voxgate-cache'], 'hit')
    await speak(gw, token, body({ transcript: 'lru-c' }))
    assert.equal((await speak(gw, token, body({ transcript: 'lru-a' }))).headers['x-voxgate-cache'], 'hit')
    assert.equal((await speak(gw, token, body({ transcript: 'lru-c' }))).headers['x-voxgate-cache'], 'hit')
    assert.equal((await speak(gw, token, body({ transcript: 'lru-b' }))).headers['x-voxgate-cache'], undefined)
  })

  test('the ledger counts hits as cached characters, part of the characters', async () => {
    const usage = async () =>
      (await call(gw.url, '/usage?sub=cache-user&group_by=sub', { headers: bearer(gw.apiKey) })).json.totals
    const text = 'Counted greeting.'
    await speak(gw, token, body({ transcript: text }))
    const start = await usage()
    assert.equal((await speak(gw, token, body({ transcript: text }))).headers['x-voxgate-cache'], 'hit')
    let now = await usage()
    for (let i = 0; i < 50 && now.streams === start.streams; i++) now = await usage()
    assert.equal(now.characters - start.characters, text.length)
    assert.equal(now.characters_cached - start.characters_cached, text.length)
    assert.equal(now.streams - start.streams, 1)
  })

  test("a hit is charged to the token's budget: one past it is refused", async () => {
    const text = 'Budgeted.'
    const limited = await mint(gw.url, gw.apiKey, {
      grants: { tts: true },
      expires_in: 60,
      limits: { characters: 2 * text.length },
    })
    assert.equal((await speak(gw, limited, body({ transcript: text }))).status, 200)
    assert.equal((await speak(gw, limited, body({ transcript: text }))).headers['x-voxgate-cache'], 'hit')
    const third = await speak(gw, limited, body({ transcript: text }))
    assert.equal(third.status, 429)
    assert.equal(third.json.error_code, 'quota_exceeded')
  })
})

describe('entries up to 5 MiB', () => {
  test('an answer of exactly 5 MiB is kept, one byte more is not', async () => {
    const gw = await gateway({ ttsCacheMb: 16 })
    try {
      const token = await mint(gw.url, gw.apiKey, { grants: { tts: true }, expires_in: 60 })
      sizes.set('at-edge', TTS_CACHE_MAX_ENTRY_BYTES)
      sizes.set('past-edge', TTS_CACHE_MAX_ENTRY_BYTES + 1)
      await speak(gw, token, body({ transcript: 'at-edge' }))
      const kept = await speak(gw, token, body({ transcript: 'at-edge' }))
      assert.equal(kept.headers['x-voxgate-cache'], 'hit')
      assert.equal(kept.body.length, TTS_CACHE_MAX_ENTRY_BYTES)
      await speak(gw, token, body({ transcript: 'past-edge' }))
      assert.equal((await speak(gw, token, body({ transcript: 'past-edge' }))).headers['x-voxgate-cache'], undefined)
      assert.equal(ttsCalls(fake), 3)
    } finally {
      await gw.close()
    }
  })
})

describe('--tts-cache-free and --tts-cache-scope global', () => {
  test('a free hit costs the budget nothing; a global cache serves every API key', async () => {
    const gw = await gateway({ ttsCacheFree: true, ttsCacheScope: 'global' })
    try {
      const text = 'Free greeting.'
      const limited = await mint(gw.url, gw.apiKey, {
        grants: { tts: true },
        expires_in: 60,
        limits: { characters: text.length },
      })
      assert.equal((await speak(gw, limited, body({ transcript: text }))).status, 200)
      for (let i = 0; i < 3; i++)
        assert.equal((await speak(gw, limited, body({ transcript: text }))).headers['x-voxgate-cache'], 'hit')
      const other = await createKey(gw.server.ctx.store, 'other', Date.now())
      const otherToken = await mint(gw.url, other.key, { grants: { tts: true }, expires_in: 60 })
      assert.equal((await speak(gw, otherToken, body({ transcript: text }))).headers['x-voxgate-cache'], 'hit')
      assert.equal(ttsCalls(fake), 1)
    } finally {
      await gw.close()
    }
  })
})

describe('two instances sharing the cache through Redis', () => {
  const prefix = uniquePrefix()
  after(async () => {
    await dropPrefix(SHARED_REDIS_URL, prefix)
  })

  test("one instance's miss is the other's hit; the upstream is called once", async () => {
    const options = { ttsCacheRedis: true, redisUrl: SHARED_REDIS_URL, redisPrefix: prefix, ttsCacheScope: 'global' }
    const a = await gateway(options)
    const b = await gateway(options)
    try {
      const ta = await mint(a.url, a.apiKey, { grants: { tts: true }, expires_in: 60 })
      const tb = await mint(b.url, b.apiKey, { grants: { tts: true }, expires_in: 60 })
      const miss = await speak(a, ta, body({ transcript: 'Shared greeting.' }))
      let hit = await speak(b, tb, body({ transcript: 'Shared greeting.' }))
      // The miss is stored as its answer ends: read again until it has landed.
      for (let i = 0; i < 50 && hit.headers['x-voxgate-cache'] !== 'hit'; i++)
        hit = await speak(b, tb, body({ transcript: 'Shared greeting.' }))
      assert.equal(hit.headers['x-voxgate-cache'], 'hit')
      assert.deepEqual(hit.body, miss.body)
    } finally {
      await a.close()
      await b.close()
    }
  })
})
